-- Conservation: every raw transaction line is clean, a duplicate, or rejected with a
-- reason — exactly one of the three. Returns a row (and fails) when anything vanished.

with

raw_rows as (

    select count(*) as n from {{ source('raw', 'transactions') }}

),

accounted as (

    select
        (select count(*) from {{ ref('stg_transactions') }})
        + (select count(*) from {{ ref('stg_transaction_duplicates') }})
        + (select count(*) from {{ ref('stg_transaction_rejects') }}) as n

)

select raw_rows.n as raw_rows, accounted.n as accounted_rows
from raw_rows, accounted
where raw_rows.n != accounted.n
