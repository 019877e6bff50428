-- Every raw transaction line, typed and normalised, with the reason it cannot be used
-- (null when it can) and, for a duplicate, the rule that made it one. This is the one place
-- the cleaning rules live: the clean, duplicate and rejected models below are filters on it,
-- so every raw row lands in exactly one. The policies are vars in dbt_project.yml.

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

        -- the customer id: the one rule of macros/customer_id.sql (trimmed, case kept)
        {{ normalize_customer_id('customer_id') }} as customer_id,
        -- codes: trimmed, case-normalised, empty means missing
        nullif(trim(order_id), '') as order_id,
        lower(nullif(trim(category), '')) as category_raw,
        lower(nullif(trim(payment_method), '')) as payment_method,
        nullif(trim(location), '') as location,

        -- values: anything that does not parse becomes null and is rejected below
        {{ parse_order_timestamp('order_date') }} as ordered_at,
        {{ has_time_of_day('order_date') }} as has_time_of_day,
        try_cast(trim(amount) as decimal(18, 2)) as amount,

        -- the raw text, kept for rejects
        order_date as raw_order_date,
        amount as raw_amount,

        -- earlier lines with every raw column the same text (a copied line)
        row_number() over (
            partition by
                customer_id, order_id, order_date, amount, category, payment_method, location
            order by file_row_number
        ) as raw_copy_number

    from source

),

first_purchase as (

    select customer_id, min(ordered_at) as first_purchase_at
    from typed
    where
        amount > 0
        and ordered_at >= {{ min_order_timestamp() }}
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
        coalesce(
            {{ customer_id_reject_reason('typed.customer_id') }},
            case
                when typed.raw_order_date is null then 'missing_order_date'
                when typed.ordered_at is null then 'unparseable_order_date'
                when typed.ordered_at < {{ min_order_timestamp() }}
                    then 'implausible_order_date'
                when typed.ordered_at > cast(current_timestamp as timestamp)
                    then 'future_order_date'
                when typed.raw_amount is null then 'missing_amount'
                when typed.amount is null then 'unparseable_amount'
                when
                    typed.amount = 0
                    and '{{ staging_policy("zero_amount_policy") }}' = 'reject'
                    then 'zero_amount'
                -- a refund needs an earlier purchase to refund
                when
                    typed.amount < 0
                    and (
                        first_purchase.first_purchase_at is null
                        or first_purchase.first_purchase_at > typed.ordered_at
                    )
                    then 'refund_without_purchase'
            end
        ) as reject_reason,
        -- which duplicate rule applies to the line (see the vars in dbt_project.yml)
        case
            when typed.order_id is not null then 'same_order_line'
            when typed.has_time_of_day then 'same_timestamp'
            else '{{ staging_policy("duplicates_without_order_id_or_time") }}'
        end as duplicate_rule_applied
    from typed
    left join first_purchase using (customer_id)

),

flagged as (

    select
        *,
        reject_reason is null and case duplicate_rule_applied
            when 'keep' then false
            -- identical raw text classifies identically: the first copy is usable too
            when 'exact_row' then raw_copy_number > 1
            -- the same normalised values as an earlier usable line: the first one wins
            else row_number() over (
                partition by
                    reject_reason, duplicate_rule_applied, customer_id, order_id, ordered_at,
                    amount, category, payment_method, location
                order by raw_row_id
            ) > 1
        end as is_duplicate
    from classified

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
        is_duplicate,
        case when is_duplicate then duplicate_rule_applied end as duplicate_rule,
        raw_order_date,
        raw_amount
    from flagged

)

select * from final
