-- Every raw transaction line, typed and normalised, with the reason it cannot be used
-- (null when it can). This is the one place the cleaning rules live: the clean, duplicate
-- and rejected models below are filters on it, so every raw row lands in exactly one.

with

source as (

    select * from {{ source('raw', 'transactions') }}

),

known_categories as (

    select category from {{ ref('category_groups') }}

),

typed as (

    select
        file_row_number as raw_row_id,

        -- ids and codes: trimmed, case-normalised, empty means missing
        upper(nullif(trim(customer_id), '')) as customer_id,
        nullif(trim(order_id), '') as order_id,
        lower(nullif(trim(category), '')) as category_raw,
        lower(nullif(trim(payment_method), '')) as payment_method,
        nullif(trim(location), '') as location,

        -- values: anything that does not parse becomes null and is rejected below
        coalesce(
            try_strptime(trim(order_date), '%Y-%m-%d %H:%M:%S'),
            try_strptime(trim(order_date), '%Y-%m-%d')
        ) as ordered_at,
        try_cast(trim(amount) as decimal(18, 2)) as amount,

        -- the raw text, kept for rejects
        order_date as raw_order_date,
        amount as raw_amount

    from source

),

first_purchase as (

    select customer_id, min(ordered_at) as first_purchase_at
    from typed
    where
        amount > 0
        and ordered_at is not null
        and ordered_at <= cast(current_timestamp as timestamp)
    group by customer_id

),

classified as (

    select
        typed.*,
        case
            when typed.category_raw is null then null
            when typed.category_raw in (select category from known_categories)
                then typed.category_raw
            else 'other'
        end as category,
        case
            when typed.customer_id is null then 'missing_customer_id'
            when typed.raw_order_date is null then 'missing_order_date'
            when typed.ordered_at is null then 'unparseable_order_date'
            when typed.ordered_at > cast(current_timestamp as timestamp) then 'future_order_date'
            when typed.raw_amount is null then 'missing_amount'
            when typed.amount is null then 'unparseable_amount'
            when typed.amount = 0 then 'zero_amount'
            -- a refund needs an earlier purchase to refund
            when
                typed.amount < 0
                and (
                    first_purchase.first_purchase_at is null
                    or first_purchase.first_purchase_at > typed.ordered_at
                )
                then 'refund_without_purchase'
        end as reject_reason
    from typed
    left join first_purchase using (customer_id)

),

final as (

    select
        raw_row_id,
        customer_id,
        order_id,
        ordered_at,
        cast(ordered_at as date) as order_date,
        amount,
        category,
        payment_method,
        location,
        reject_reason,
        -- exact duplicates of a usable row: the first raw row wins
        reject_reason is null and row_number() over (
            partition by
                reject_reason, customer_id, order_id, ordered_at, amount, category,
                payment_method, location
            order by raw_row_id
        ) > 1 as is_duplicate,
        raw_order_date,
        raw_amount
    from classified

)

select * from final
