-- One row per as-of date: the latest order date and every `snapshot_every_days` before it,
-- `snapshot_count` times, never before the first order. Serving reads the latest date;
-- training stacks the older ones whose label window is fully observed. A backtest can name
-- its own dates instead: `--vars '{as_of_dates: [2011-06-30, 2011-07-31]}'`.
{%- set explicit_dates = var('as_of_dates', []) %}

with

transactions as (

    select * from {{ ref('stg_transactions') }}

),

bounds as (

    select min(order_date) as first_day, max(order_date) as latest_day
    from transactions
    where is_purchase

),

grid as (

    {%- if explicit_dates %}
    select cast(explicit.as_of_date as date) as as_of_date, latest_day, first_day
    from bounds, (
        values {% for d in explicit_dates %}('{{ d }}'){{ ", " if not loop.last }}{% endfor %}  -- noqa: LT05
    ) as explicit (as_of_date)
    where cast(explicit.as_of_date as date) <= latest_day
    {%- else %}
    select
        cast(latest_day - cast(steps.step * {{ var('snapshot_every_days') }} as integer) as date)
            as as_of_date,
        latest_day,
        first_day
    from bounds, range(0, {{ var('snapshot_count') }} + 1) as steps (step)
    {%- endif %}

),

final as (

    select
        as_of_date,
        -- features describe the whole as-of day, so they are stamped at its last second
        cast(as_of_date as timestamp) + interval 86399 second as event_timestamp,
        as_of_date + {{ var('label_window_days') }} <= latest_day as is_label_observed
    from grid
    where as_of_date >= first_day

)

select * from final
