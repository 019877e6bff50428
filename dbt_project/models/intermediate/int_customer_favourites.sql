-- One row per customer, preference kind and day with purchases of that kind: the favourite
-- value after that day (most purchases so far, ties to the alphabetically first), its
-- purchases, and how many distinct values were bought so far. Counts only grow, so the
-- favourite after a day is the running maximum of (purchases, name order) over the days so
-- far; the favourite at an as-of date T is then the last row on or before T (as the Spark
-- backfill resolves it), not a ranking of every value at every T.

with

preferences as (

    select * from {{ ref('int_customer_preferences') }}

),

ranked_values as (

    select
        customer_id,
        preference,
        preference_value,
        activity_date,
        cum_purchases,
        purchases = cum_purchases as is_first_purchase,
        -- the alphabetically first value ranks highest, so it wins a tie in a maximum
        dense_rank() over (
            partition by customer_id, preference order by preference_value desc
        ) as name_order
    from preferences

),

final as (

    -- a day with several values gives identical rows (the frame is the whole day)
    select distinct
        customer_id,
        preference,
        activity_date,
        arg_max(
            preference_value, { 'purchases': cum_purchases, 'name_order': name_order }
        ) over days_so_far as favourite_value,
        max(cum_purchases) over days_so_far as favourite_purchases,
        count(*) filter (where is_first_purchase) over days_so_far as distinct_values
    from ranked_values
    window days_so_far as (
        partition by customer_id, preference order by activity_date
        range between unbounded preceding and current row
    )

)

select * from final
