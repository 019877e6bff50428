-- One row per customer per as-of date T for every customer with a purchase on or before T:
-- the rows both marts describe (customer_features for every T, customer_labels for the T
-- whose label window is fully observed), defined once.

with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

customer_days as (

    select * from {{ ref('int_customer_days') }}
    where purchases > 0

),

first_purchases as (

    select customer_id, min(activity_date) as first_purchase_date
    from customer_days
    group by customer_id

),

final as (

    select
        first_purchases.customer_id,
        as_of_dates.as_of_date,
        as_of_dates.event_timestamp,
        as_of_dates.is_label_observed
    from as_of_dates
    inner join first_purchases on first_purchases.first_purchase_date <= as_of_dates.as_of_date

)

select * from final
