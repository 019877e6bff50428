-- The usable transactions: typed, normalised, deduplicated.

with

typed as (

    select * from {{ ref('stg_transactions__typed') }}

),

final as (

    select
        raw_row_id,
        customer_id,
        order_id,
        ordered_at,
        order_date,
        amount,
        -- a zero-amount line is here only under zero_amount_policy 'keep': a free purchase
        amount >= 0 as is_purchase,
        category,
        payment_method,
        location
    from typed
    where reject_reason is null and not is_duplicate

)

select * from final
