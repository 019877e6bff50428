{{ config(
    materialized='external',
    location=env_var('FEATURES_DIR', 'data/features') ~ '/customer_labels.parquet'
) }}
-- One row per customer per as-of date T whose label window (T, T + label_window_days] is
-- fully observed: did the customer make a purchase in that window?

with

population as (

    select * from {{ ref('int_customer_as_of_population') }}
    where is_label_observed

),

customer_days as (

    select * from {{ ref('int_customer_days') }}
    where purchases > 0

),

window_purchases as (

    select population.customer_id, population.as_of_date, count(*) as purchase_days
    from population
    inner join customer_days
        on
            population.customer_id = customer_days.customer_id
            and customer_days.activity_date > population.as_of_date
            and customer_days.activity_date
            <= population.as_of_date + {{ var('label_window_days') }}
    group by population.customer_id, population.as_of_date

),

final as (

    select
        population.customer_id,
        population.as_of_date,
        population.event_timestamp,
        cast(coalesce(window_purchases.purchase_days, 0) > 0 as bigint) as repeat_30d,
        cast({{ var('label_window_days') }} as bigint) as label_window_days
    from population
    left join window_purchases using (customer_id, as_of_date)

)

select * from final
