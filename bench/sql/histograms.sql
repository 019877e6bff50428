-- purchase days per week (26) and per 30-day period (12) before the as-of date
with pop as (select customer_id, cast(as_of_date as date) as as_of_date from customer_features),
days as (
    select customer_id, order_date as d from stg_transactions where is_purchase group by 1, 2
),
j as (
    select pop.*, cast(pop.as_of_date - days.d as int) as ago
    from pop join days on pop.customer_id = days.customer_id and days.d <= pop.as_of_date
)
select customer_id, as_of_date,
    count(*) filter (where ago // 7 = 0) as week_0,
    count(*) filter (where ago // 7 = 1) as week_1,
    count(*) filter (where ago // 7 = 2) as week_2,
    count(*) filter (where ago // 7 = 3) as week_3,
    count(*) filter (where ago // 7 = 4) as week_4,
    count(*) filter (where ago // 7 = 5) as week_5,
    count(*) filter (where ago // 7 = 6) as week_6,
    count(*) filter (where ago // 7 = 7) as week_7,
    count(*) filter (where ago // 7 = 8) as week_8,
    count(*) filter (where ago // 7 = 9) as week_9,
    count(*) filter (where ago // 7 = 10) as week_10,
    count(*) filter (where ago // 7 = 11) as week_11,
    count(*) filter (where ago // 7 = 12) as week_12,
    count(*) filter (where ago // 7 = 13) as week_13,
    count(*) filter (where ago // 7 = 14) as week_14,
    count(*) filter (where ago // 7 = 15) as week_15,
    count(*) filter (where ago // 7 = 16) as week_16,
    count(*) filter (where ago // 7 = 17) as week_17,
    count(*) filter (where ago // 7 = 18) as week_18,
    count(*) filter (where ago // 7 = 19) as week_19,
    count(*) filter (where ago // 7 = 20) as week_20,
    count(*) filter (where ago // 7 = 21) as week_21,
    count(*) filter (where ago // 7 = 22) as week_22,
    count(*) filter (where ago // 7 = 23) as week_23,
    count(*) filter (where ago // 7 = 24) as week_24,
    count(*) filter (where ago // 7 = 25) as week_25,
    count(*) filter (where ago // 30 = 0) as period_0,
    count(*) filter (where ago // 30 = 1) as period_1,
    count(*) filter (where ago // 30 = 2) as period_2,
    count(*) filter (where ago // 30 = 3) as period_3,
    count(*) filter (where ago // 30 = 4) as period_4,
    count(*) filter (where ago // 30 = 5) as period_5,
    count(*) filter (where ago // 30 = 6) as period_6,
    count(*) filter (where ago // 30 = 7) as period_7,
    count(*) filter (where ago // 30 = 8) as period_8,
    count(*) filter (where ago // 30 = 9) as period_9,
    count(*) filter (where ago // 30 = 10) as period_10,
    count(*) filter (where ago // 30 = 11) as period_11
from j group by 1, 2
