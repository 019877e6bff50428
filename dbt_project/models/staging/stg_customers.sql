-- One row per customer profile: typed and normalised; the first record of an id wins.
-- Ids follow the one rule of macros/customer_id.sql; a profile whose id staging rejects
-- (missing, a null marker, invalid) belongs to no customer and is left out.

with

source as (

    select * from {{ source('raw', 'customers') }}

),

typed as (

    select
        file_row_number as raw_row_id,
        {{ normalize_customer_id('customer_id') }} as customer_id,
        try_cast(trim(signup_date) as date) as signup_date,
        try_cast(trim(age) as integer) as age,
        lower(nullif(trim(gender), '')) as gender,
        nullif(trim(location), '') as location
    from source

),

final as (

    select customer_id, signup_date, age, gender, location
    from typed
    where {{ customer_id_reject_reason('customer_id') }} is null
    qualify row_number() over (partition by customer_id order by raw_row_id) = 1

)

select * from final
