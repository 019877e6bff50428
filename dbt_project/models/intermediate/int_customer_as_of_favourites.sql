-- One row per customer and as-of date T: the favourite category and preferred payment method
-- in force at T (the last of int_customer_favourites' rows on or before T).

with

population as (

    select customer_id, as_of_date from {{ ref('int_customer_as_of_population') }}

),

favourites as (

    select * from {{ ref('int_customer_favourites') }}

),

categories as (

    select * from favourites
    where preference = 'category'

),

payment_methods as (

    select * from favourites
    where preference = 'payment_method'

),

final as (

    select
        population.customer_id,
        population.as_of_date,
        categories.favourite_value as favourite_category,
        categories.favourite_purchases as favourite_category_orders,
        categories.distinct_values as distinct_categories,
        payment_methods.favourite_value as preferred_payment_method
    from population
    asof left join categories
        on
            population.customer_id = categories.customer_id
            and population.as_of_date >= categories.activity_date
    asof left join payment_methods
        on
            population.customer_id = payment_methods.customer_id
            and population.as_of_date >= payment_methods.activity_date

)

select * from final
