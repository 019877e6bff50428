-- One row per customer and as-of date T: the customer's running totals at T (their last
-- active day on or before T). One as-of lookup per model, on purpose: DuckDB runs the
-- lookups of one query side by side, and at a million customers seven of them in
-- customer_features spilled ~19 GB and took 3x as long as the same lookups as tables.

with

population as (

    select * from {{ ref('int_customer_as_of_population') }}

),

customer_days as (

    select * from {{ ref('int_customer_days') }}

),

final as (

    select
        population.customer_id,
        population.as_of_date,
        customer_days.* exclude (customer_id, activity_date),
        customer_days.activity_date as last_active_date
    from population
    asof left join customer_days
        on
            population.customer_id = customer_days.customer_id
            and population.as_of_date >= customer_days.activity_date

)

select * from final
