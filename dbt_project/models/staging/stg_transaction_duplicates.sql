-- Raw rows that repeat an earlier usable row, each with the duplicate rule that caught it.

with

typed as (

    select * from {{ ref('stg_transactions__typed') }}

),

final as (

    select
        raw_row_id,
        duplicate_rule,
        customer_id,
        order_id,
        ordered_at,
        amount
    from typed
    where is_duplicate

)

select * from final
