-- One row per customer, preference kind (category, payment method) and value per day with
-- purchases of that value, with the running count of such purchases. The favourite value at
-- an as-of date is the one with the highest running count on or before it.

with

transactions as (

    select * from {{ ref('stg_transactions') }}
    where is_purchase

),

unpivoted as (

    select customer_id, order_date, 'category' as preference, category as preference_value
    from transactions
    where category is not null
    union all
    select
        customer_id,
        order_date,
        'payment_method' as preference,
        payment_method as preference_value
    from transactions
    where payment_method is not null

),

daily as (

    select
        customer_id, preference, preference_value, order_date as activity_date,
        count(*) as purchases
    from unpivoted
    group by all

),

final as (

    select
        customer_id,
        preference,
        preference_value,
        activity_date,
        purchases,
        sum(purchases) over (
            partition by customer_id, preference, preference_value order by activity_date
            rows between unbounded preceding and current row
        ) as cum_purchases
    from daily

)

select * from final
