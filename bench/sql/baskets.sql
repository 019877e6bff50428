-- baskets from the invoice lines the importer aggregates away: lines, products, units, prices
-- (lines dated on or before the as-of date)
with raw as (
  select InvoiceNo as inv, StockCode as sku, Quantity as q, UnitPrice as p, cast(CustomerID as varchar) as customer_id,
    cast(InvoiceDate as date) as d, Country as country
  from read_csv_auto('{online_retail}', all_varchar=false)
  where CustomerID is not null and not starts_with(InvoiceNo, 'C')
),
pop as (select distinct customer_id, as_of_date from read_parquet('{features}')),
j as (select pop.as_of_date, raw.* from pop join raw on pop.customer_id = raw.customer_id and raw.d <= pop.as_of_date)
select customer_id, as_of_date,
  count(*) / count(distinct inv) as lines_per_order,
  count(distinct sku) as distinct_products,
  count(distinct sku) filter (where d > as_of_date - 90) as distinct_products_90d,
  sum(q) / count(distinct inv) as units_per_order,
  median(p) as median_unit_price,
  count(distinct sku) / count(*) as product_novelty,
  count(*) filter (where d > as_of_date - 90) / nullif(count(distinct inv) filter (where d > as_of_date - 90), 0) as lines_per_order_90d
from j group by 1, 2
