-- products: how frequent and how recently active the other buyers of the same products are
-- (everything from lines dated on or before each as-of date; the customer left out of their own)
with raw as (
  select distinct InvoiceNo as inv, StockCode as sku, cast(CustomerID as varchar) as customer_id, cast(InvoiceDate as date) as d
  from read_csv_auto('{online_retail}')
  where CustomerID is not null and not starts_with(InvoiceNo, 'C')
),
dates as (select distinct as_of_date from read_parquet('{features}')),
cust as (  -- per date, each customer's order-day count and recency
  select dates.as_of_date, customer_id, count(distinct d) as days, min(d) as first_d, max(d) as last_d
  from dates join raw on raw.d <= dates.as_of_date group by 1, 2
),
cust_score as (select *, days * 30.0 / (as_of_date - first_d + 30) as freq, cast(as_of_date - last_d <= 30 as int) as active30 from cust),
cs as (  -- customer-sku pairs known at date
  select distinct dates.as_of_date, raw.customer_id, raw.sku from dates join raw on raw.d <= dates.as_of_date
),
sku_score as (
  select cs.as_of_date, cs.sku, sum(freq) as s_freq, sum(active30) as s_act, count(*) as buyers
  from cs join cust_score using (as_of_date, customer_id) group by 1, 2
),
per_cust as (
  select cs.as_of_date, cs.customer_id,
    avg((s.s_freq - c.freq) / nullif(s.buyers - 1, 0)) as sku_buyer_freq,
    avg((s.s_act - c.active30) / nullif(s.buyers - 1, 0)) as sku_buyer_active,
    avg(s.buyers) as sku_popularity
  from cs join sku_score s using (as_of_date, sku) join cust_score c using (as_of_date, customer_id)
  group by 1, 2
)
select * from per_cust
