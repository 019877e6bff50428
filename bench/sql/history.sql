-- order history beyond the marts: gaps, active 30-day periods, 14/60-day windows, own-gap hazard
-- (purchase days on or before the as-of date only)
with pop as (select customer_id, cast(as_of_date as date) as as_of_date from customer_features),
days as (
  select customer_id, order_date as d, count(*) as n, sum(amount) as amt
  from stg_transactions where is_purchase group by 1, 2
),
rets as (select customer_id, order_date as d, count(*) as n from stg_transactions where not is_purchase group by 1,2),
j as (
  select pop.customer_id, pop.as_of_date, days.d, days.n, days.amt,
    cast(pop.as_of_date - days.d as int) as ago
  from pop join days on pop.customer_id = days.customer_id and days.d <= pop.as_of_date
),
ranked as (
  select *, row_number() over (partition by customer_id, as_of_date order by d desc) as k,
   cast(d - lag(d) over (partition by customer_id, as_of_date order by d) as int) as gap
  from j
),
agg as (
  select customer_id, as_of_date,
    max(ago) filter (where k = 2) as days_since_2nd_last,
    max(ago) filter (where k = 3) as days_since_3rd_last,
    max(gap) filter (where k = 1) as last_gap_days,
    max(gap) as max_gap_days,
    median(gap) as median_gap_days,
    count(distinct floor(ago / 30)) filter (where ago < 360) as active_periods_12,
    count(distinct floor(ago / 30)) filter (where ago < 180) as active_periods_6,
    count(distinct floor(ago / 30)) filter (where ago < 90) as active_periods_3,
    least(12, floor(max(ago) / 30) + 1) as periods_known,
    sum(n) filter (where ago < 14) as orders_14d,
    sum(n) filter (where ago < 60) as orders_60d,
    count(*) filter (where ago < 30) as purchase_days_30d,
    count(*) filter (where ago < 90) as purchase_days_90d,
    sum(amt) filter (where ago < 90) as s90, sum(amt) filter (where ago >= 90 and ago < 180) as s90p,
    -- share of own gaps longer than current recency that ended within recency+30
    count(*) filter (where gap > min_recency and gap <= min_recency + 30) as gaps_closing,
    count(*) filter (where gap > min_recency) as gaps_longer
  from (select *, min(ago) over (partition by customer_id, as_of_date) as min_recency from ranked) r
  group by 1, 2
)
select *, active_periods_12 / periods_known as active_period_share,
  active_periods_6 / least(6, periods_known) as active_period_share_6,
  (gaps_closing + 0.5) / (gaps_longer + 1.0) as gap_hazard,
  coalesce(s90,0) / (coalesce(s90p,0) + coalesce(s90,0) + 1) as spend_trend
from agg
