{{ config(
    materialized='external',
    location=env_var('FEATURES_DIR', 'data/features') ~ '/customer_features.parquet'
) }}
{%- set windows = feature_windows() %}
-- One row per customer per as-of date T, for every customer with a purchase on or before T.
-- Every feature uses only transactions dated on or before T (point-in-time correct).

with

population as (

    select * from {{ ref('int_customer_as_of_population') }}

),

totals as (

    select * from {{ ref('int_customer_as_of_totals') }}

),

window_totals as (

    select * from {{ ref('int_customer_as_of_windows') }}

),

favourites as (

    select * from {{ ref('int_customer_as_of_favourites') }}

),

calendar as (

    select * from {{ ref('int_calendar_days') }}

),

customers as (

    select * from {{ ref('stg_customers') }}

),

transactions as (

    select * from {{ ref('stg_transactions') }}

),

-- every customer's state at T, each part looked up by a model of its own

at_t as (

    select
        population.customer_id,
        population.as_of_date,
        population.event_timestamp,
        totals.* exclude (customer_id, as_of_date),
        window_totals.* exclude (customer_id, as_of_date),
        favourites.* exclude (customer_id, as_of_date)
    from population
    inner join totals using (customer_id, as_of_date)
    inner join window_totals using (customer_id, as_of_date)
    inner join favourites using (customer_id, as_of_date)

),

-- profile: the customer file, else what the first purchase says

first_locations as (

    select customer_id, order_date as located_on, location
    from transactions
    where is_purchase and location is not null
    qualify row_number() over (partition by customer_id order by ordered_at, raw_row_id) = 1

),

final as (

    select
        at_t.customer_id,
        at_t.as_of_date,
        at_t.event_timestamp,

        -- recency, frequency, monetary
        cast(at_t.as_of_date - at_t.last_purchase_date as bigint) as recency_days,
        cast(at_t.as_of_date - at_t.first_purchase_date as bigint) as tenure_days,
        cast(at_t.cum_purchases as bigint) as orders_count,
        cast(at_t.cum_purchase_days as bigint) as purchase_days,
        cast(at_t.cum_spend as double) as total_spend,
        cast(at_t.cum_spend as double) / at_t.cum_purchases as avg_order_value,
        at_t.cum_purchases * 30.0
        / (at_t.as_of_date - at_t.first_purchase_date + 1) as orders_per_month,
        cast(at_t.cum_spend as double)
        / (at_t.as_of_date - at_t.first_purchase_date + 1) as spend_per_day,

        -- windows ending at the as-of date
        {%- for w in windows %}
        cast(at_t.cum_purchases - at_t.cum_purchases_{{ w }}d_before as bigint)
            as orders_{{ w }}d,
        cast(at_t.cum_spend - at_t.cum_spend_{{ w }}d_before as double) as spend_{{ w }}d,
        {%- endfor %}
        -- orders in the last 90 days against the 90 before them
        (at_t.cum_purchases - at_t.cum_purchases_90d_before + 1.0)
        / (at_t.cum_purchases_90d_before - at_t.cum_purchases_180d_before + 1.0)
            as orders_trend_90d,

        -- rhythm: gaps between purchase days
        case
            when at_t.cum_purchase_days >= 2
                then
                    cast(at_t.last_purchase_date - at_t.first_purchase_date as double)
                    / (at_t.cum_purchase_days - 1)
        end as mean_gap_days,
        case
            when at_t.cum_purchase_days >= 3
                then
                    sqrt(greatest(
                        (
                            at_t.cum_gap_days_squared
                            - cast(
                                at_t.last_purchase_date - at_t.first_purchase_date
                                as double
                            )
                            * (at_t.last_purchase_date - at_t.first_purchase_date)
                            / (at_t.cum_purchase_days - 1)
                        )
                        / (at_t.cum_purchase_days - 2),
                        0
                    ))
        end as std_gap_days,
        case
            when
                at_t.cum_purchase_days >= 2
                and at_t.last_purchase_date > at_t.first_purchase_date
                then
                    (at_t.as_of_date - at_t.last_purchase_date)
                    / (
                        cast(at_t.last_purchase_date - at_t.first_purchase_date as double)
                        / (at_t.cum_purchase_days - 1)
                    )
        end as recency_gap_ratio,

        -- returns
        cast(at_t.cum_returns as bigint) as returns_count,
        cast(at_t.cum_returns_amount as double) as returns_amount,

        -- what and how they buy
        cast(coalesce(at_t.distinct_categories, 0) as bigint) as distinct_categories,
        at_t.favourite_category,
        cast(at_t.favourite_category_orders as double) / at_t.cum_purchases
            as favourite_category_share,
        at_t.preferred_payment_method,
        cast(at_t.cum_weekend_purchases as double) / at_t.cum_purchases
            as weekend_order_share,
        -- among purchases on days the holiday calendar covers; null when none is covered
        cast(at_t.cum_holiday_purchases as double)
        / nullif(at_t.cum_calendar_purchases, 0) as holiday_order_share,

        -- the as-of date on the calendar
        calendar.month as as_of_month,
        calendar.day_of_week as as_of_day_of_week,
        calendar.days_to_next_holiday,
        calendar.is_festival_season,

        -- profile
        cast(customers.age as bigint) as age,
        customers.gender,
        coalesce(
            customers.location,
            case
                when first_locations.located_on <= at_t.as_of_date
                    then first_locations.location
            end
        ) as location,
        case
            when customers.signup_date <= at_t.as_of_date
                then
                    cast(at_t.as_of_date - customers.signup_date as bigint)
        end as days_since_signup

    from at_t
    left join calendar on at_t.as_of_date = calendar.calendar_date
    left join customers using (customer_id)
    left join first_locations using (customer_id)

)

select * from final
