{{ config(
    materialized='external',
    location=env_var('FEATURES_DIR', 'data/features') ~ '/customer_features.parquet'
) }}
{%- set windows = [30, 90, 180, 365] %}
-- One row per customer per as-of date T, for every customer with a purchase on or before T.
-- Every feature uses only transactions dated on or before T (point-in-time correct).

with

population as (

    select * from {{ ref('int_customer_as_of_population') }}

),

customer_days as (

    select * from {{ ref('int_customer_days') }}

),

preferences as (

    select * from {{ ref('int_customer_preferences') }}

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

-- running totals at T and at T − window, one as-of lookup each

lookbacks as (

    select offsets.days_back
    from (values (0) {%- for w in windows %}, ({{ w }}){% endfor %}) as offsets (days_back)  -- noqa: LT05

),

probes as (

    select
        population.customer_id,
        population.as_of_date,
        lookbacks.days_back,
        cast(population.as_of_date - cast(lookbacks.days_back as integer) as date) as probe_date
    from population
    cross join lookbacks

),

probed as (

    select
        probes.customer_id, probes.as_of_date, probes.days_back, customer_days.*
        exclude (customer_id)
    from probes
    asof left join customer_days
        on
            probes.customer_id = customer_days.customer_id
            and probes.probe_date >= customer_days.activity_date

),

at_as_of as (

    select * exclude (days_back)
    from probed
    where days_back = 0

),

-- LT02 judges the jinja loop's rendered layout here, not the SQL as written
-- noqa: disable=LT02
windowed as (

    select
        customer_id,
        as_of_date
        {%- for w in windows %},
        max(cum_purchases) filter (where days_back = 0)
        - coalesce(max(cum_purchases) filter (where days_back = {{ w }}), 0)
            as orders_{{ w }}d,
        max(cum_spend) filter (where days_back = 0)
        - coalesce(max(cum_spend) filter (where days_back = {{ w }}), 0)
            as spend_{{ w }}d
        {%- endfor %}
    from probed
    group by customer_id, as_of_date

),
-- noqa: enable=LT02

-- favourite category and preferred payment method: most purchases on or before T,
-- ties broken by the value's name so every engine picks the same one

preference_values as (

    select distinct customer_id, preference, preference_value
    from preferences

),

preference_probes as (

    select
        population.customer_id, population.as_of_date, preference_values.preference,
        preference_values.preference_value
    from population
    inner join preference_values using (customer_id)

),

preference_counts as (

    select preference_probes.*, preferences.cum_purchases
    from preference_probes
    asof inner join preferences
        on
            preference_probes.customer_id = preferences.customer_id
            and preference_probes.preference = preferences.preference
            and preference_probes.preference_value = preferences.preference_value
            and preference_probes.as_of_date >= preferences.activity_date

),

ranked_preferences as (

    select
        *,
        row_number() over (
            partition by customer_id, as_of_date, preference
            order by cum_purchases desc, preference_value asc
        ) as preference_rank,
        count(*) over (partition by customer_id, as_of_date, preference) as distinct_values
    from preference_counts

),

favourites as (

    select
        customer_id,
        as_of_date,
        max(preference_value) filter (where preference = 'category') as favourite_category,
        max(cum_purchases) filter (where preference = 'category') as favourite_category_orders,
        max(distinct_values) filter (where preference = 'category') as distinct_categories,
        max(preference_value) filter (where preference = 'payment_method')
            as preferred_payment_method
    from ranked_preferences
    where preference_rank = 1
    group by customer_id, as_of_date

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
        population.customer_id,
        population.as_of_date,
        population.event_timestamp,

        -- recency, frequency, monetary
        cast(population.as_of_date - at_as_of.last_purchase_date as bigint) as recency_days,
        cast(population.as_of_date - at_as_of.first_purchase_date as bigint) as tenure_days,
        cast(at_as_of.cum_purchases as bigint) as orders_count,
        cast(at_as_of.cum_purchase_days as bigint) as purchase_days,
        cast(at_as_of.cum_spend as double) as total_spend,
        cast(at_as_of.cum_spend as double) / at_as_of.cum_purchases as avg_order_value,
        at_as_of.cum_purchases * 30.0
        / (population.as_of_date - at_as_of.first_purchase_date + 1) as orders_per_month,
        cast(at_as_of.cum_spend as double)
        / (population.as_of_date - at_as_of.first_purchase_date + 1) as spend_per_day,

        -- windows ending at the as-of date
        {%- for w in windows %}
        cast(windowed.orders_{{ w }}d as bigint) as orders_{{ w }}d,
        cast(windowed.spend_{{ w }}d as double) as spend_{{ w }}d,
        {%- endfor %}
        (windowed.orders_90d + 1.0) / (windowed.orders_180d - windowed.orders_90d + 1.0)
            as orders_trend_90d,

        -- rhythm: gaps between purchase days
        case
            when at_as_of.cum_purchase_days >= 2
                then
                    cast(at_as_of.last_purchase_date - at_as_of.first_purchase_date as double)
                    / (at_as_of.cum_purchase_days - 1)
        end as mean_gap_days,
        case
            when at_as_of.cum_purchase_days >= 3
                then
                    sqrt(greatest(
                        (
                            at_as_of.cum_gap_days_squared
                            - cast(
                                at_as_of.last_purchase_date - at_as_of.first_purchase_date
                                as double
                            )
                            * (at_as_of.last_purchase_date - at_as_of.first_purchase_date)
                            / (at_as_of.cum_purchase_days - 1)
                        )
                        / (at_as_of.cum_purchase_days - 2),
                        0
                    ))
        end as std_gap_days,
        case
            when
                at_as_of.cum_purchase_days >= 2
                and at_as_of.last_purchase_date > at_as_of.first_purchase_date
                then
                    (population.as_of_date - at_as_of.last_purchase_date)
                    / (
                        cast(at_as_of.last_purchase_date - at_as_of.first_purchase_date as double)
                        / (at_as_of.cum_purchase_days - 1)
                    )
        end as recency_gap_ratio,

        -- returns
        cast(at_as_of.cum_returns as bigint) as returns_count,
        cast(at_as_of.cum_returns_amount as double) as returns_amount,

        -- what and how they buy
        cast(coalesce(favourites.distinct_categories, 0) as bigint) as distinct_categories,
        favourites.favourite_category,
        cast(favourites.favourite_category_orders as double) / at_as_of.cum_purchases
            as favourite_category_share,
        favourites.preferred_payment_method,
        cast(at_as_of.cum_weekend_purchases as double) / at_as_of.cum_purchases
            as weekend_order_share,
        -- among purchases on days the holiday calendar covers; null when none is covered
        cast(at_as_of.cum_holiday_purchases as double)
        / nullif(at_as_of.cum_calendar_purchases, 0) as holiday_order_share,

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
                when first_locations.located_on <= population.as_of_date
                    then first_locations.location
            end
        ) as location,
        case
            when customers.signup_date <= population.as_of_date
                then
                    cast(population.as_of_date - customers.signup_date as bigint)
        end as days_since_signup

    from population
    inner join at_as_of using (customer_id, as_of_date)
    inner join windowed using (customer_id, as_of_date)
    left join favourites using (customer_id, as_of_date)
    left join calendar on population.as_of_date = calendar.calendar_date
    left join customers using (customer_id)
    left join first_locations using (customer_id)

)

select * from final
