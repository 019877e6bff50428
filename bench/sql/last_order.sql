-- the last order against the customer's average: value, lines, units; order hour and weekday
-- (invoice lines from the raw file, dated on or before the as-of date)
with raw as (
  select InvoiceNo as inv, StockCode as sku, Quantity as q, UnitPrice as p, cast(CustomerID as varchar) as customer_id,
    InvoiceDate as ts, cast(InvoiceDate as date) as d, Country as country
  from read_csv_auto('{online_retail}')
  where CustomerID is not null and not starts_with(InvoiceNo, 'C')
),
inv as (select customer_id, inv, min(ts) as ts, min(d) as d, sum(q*p) as amt, count(*) as lines, sum(q) as units, hour(min(ts)) as hr, dayofweek(min(ts)) as dow from raw group by 1,2),
pop as (select distinct customer_id, as_of_date from read_parquet('{features}')),
j as (select pop.as_of_date, inv.*, row_number() over (partition by pop.customer_id, pop.as_of_date order by ts desc) as k
      from pop join inv on pop.customer_id = inv.customer_id and inv.d <= pop.as_of_date)
select customer_id, as_of_date,
  max(amt) filter (where k=1) as last_order_value,
  max(amt) filter (where k=1) / avg(amt) as last_order_value_ratio,
  max(lines) filter (where k=1) as last_order_lines,
  max(lines) filter (where k=1) / avg(lines) as last_order_lines_ratio,
  max(units) filter (where k=1) / avg(units) as last_order_units_ratio,
  avg(hr) as mean_order_hour,
  max(dow) filter (where k=1) as last_order_dow,
  stddev(amt) / avg(amt) as order_value_cv,
  sum(amt) filter (where k<=3) / nullif(sum(amt) filter (where k>3 and k<=6),0) as value_trend_3
from j group by 1,2
