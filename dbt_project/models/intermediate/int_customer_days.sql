-- One row per customer per day with any usable transaction: the day's purchases, spend and
-- returns, and running totals up to and including that day. Features at an as-of date T
-- read the last row on or before T (and before T − window for windowed counts), so their
-- cost grows with orders + customers × dates, not with customers × dates × history.

with

transactions as (

    select * from {{ ref('stg_transactions') }}

),

calendar as (

    select * from {{ ref('int_calendar_days') }}

),

daily as (

    select
        transactions.customer_id,
        transactions.order_date as activity_date,
        count(*) filter (where transactions.is_purchase) as purchases,
        coalesce(sum(transactions.amount) filter (where transactions.is_purchase), 0) as spend,
        count(*) filter (where not transactions.is_purchase) as returns,
        coalesce(-sum(transactions.amount) filter (where not transactions.is_purchase), 0)
            as returns_amount,
        count(*) filter (where transactions.is_purchase and calendar.is_weekend)
            as weekend_purchases,
        count(*) filter (where transactions.is_purchase and calendar.is_holiday)
            as holiday_purchases,
        -- purchases on days the holiday calendar covers: the holiday share's denominator
        count(*) filter (where transactions.is_purchase and calendar.is_holiday is not null)
            as calendar_purchases
    from transactions
    inner join calendar on transactions.order_date = calendar.calendar_date
    group by transactions.customer_id, transactions.order_date

),

with_previous_purchase as (

    select
        *,
        max(case when purchases > 0 then activity_date end) over (
            partition by customer_id order by activity_date
            rows between unbounded preceding and 1 preceding
        ) as previous_purchase_date
    from daily

),

final as (

    select
        customer_id,
        activity_date,
        purchases,
        spend,
        returns,
        returns_amount,

        -- running totals up to and including activity_date
        sum(purchases) over running as cum_purchases,
        sum(spend) over running as cum_spend,
        sum(returns) over running as cum_returns,
        sum(returns_amount) over running as cum_returns_amount,
        sum(weekend_purchases) over running as cum_weekend_purchases,
        sum(holiday_purchases) over running as cum_holiday_purchases,
        sum(calendar_purchases) over running as cum_calendar_purchases,
        count(case when purchases > 0 then 1 end) over running as cum_purchase_days,
        min(case when purchases > 0 then activity_date end) over running as first_purchase_date,
        max(case when purchases > 0 then activity_date end) over running as last_purchase_date,
        -- squared gaps between consecutive purchase days, for the gap's spread
        sum(
            case
                when purchases > 0 and previous_purchase_date is not null
                    then
                        (activity_date - previous_purchase_date)
                        * (activity_date - previous_purchase_date)
            end
        ) over running as cum_gap_days_squared
    from with_previous_purchase
    window running as (
        partition by customer_id order by activity_date
        rows between unbounded preceding and current row
    )

)

select * from final
