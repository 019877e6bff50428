-- Raw rows that cannot be used, each with the reason, and the raw text that failed.

with

typed as (

    select * from {{ ref('stg_transactions__typed') }}

),

final as (

    select
        raw_row_id,
        reject_reason,
        customer_id,
        order_id,
        raw_order_date,
        raw_amount,
        category,
        payment_method,
        location
    from typed
    where reject_reason is not null

)

select * from final
