{%- set windows = feature_windows() %}
-- One row per customer and as-of date T: purchases and spend up to T − window, for each
-- window; customer_features subtracts them from the totals at T, so a window is (T − w, T].
-- Narrow lookups only (two running totals each): see int_customer_as_of_totals for why the
-- lookups are tables of their own.

with

population as (

    select customer_id, as_of_date from {{ ref('int_customer_as_of_population') }}

),

running_totals as (

    select customer_id, activity_date, cum_purchases, cum_spend
    from {{ ref('int_customer_days') }}

),

-- LT02 judges the jinja loop's rendered layout here, not the SQL as written
-- noqa: disable=LT02
final as (

    select
        population.customer_id,
        population.as_of_date
        {%- for w in windows %},
        coalesce(before_{{ w }}d.cum_purchases, 0) as cum_purchases_{{ w }}d_before,
        coalesce(before_{{ w }}d.cum_spend, 0) as cum_spend_{{ w }}d_before
        {%- endfor %}
    from population
    {%- for w in windows %}
    asof left join running_totals as before_{{ w }}d
        on
            population.customer_id = before_{{ w }}d.customer_id
            and population.as_of_date - {{ w }} >= before_{{ w }}d.activity_date
    {%- endfor %}

)
-- noqa: enable=LT02

select * from final
