-- One row per calendar day from the first order to a year past the last one, with the
-- day's weekday, holiday and festival-season flags and the days to the next holiday.

with

transactions as (

    select * from {{ ref('stg_transactions') }}

),

holidays as (

    select * from {{ ref('indian_holidays') }}

),

seasons as (

    select * from {{ ref('festival_seasons') }}

),

bounds as (

    select min(order_date) as first_day, max(order_date) as last_day
    from transactions

),

spine as (

    select cast(day as date) as calendar_date
    from bounds,
        generate_series(
            cast(first_day as timestamp),
            cast(last_day as timestamp) + interval 366 day,
            interval 1 day
        ) as days (day)

),

holiday_days as (

    select holiday_date, string_agg(holiday_name, ' / ' order by holiday_name) as holiday_name
    from holidays
    group by holiday_date

),

next_holiday as (

    -- the first holiday on or after each day (null past the end of the seed)
    select spine.calendar_date, holiday_days.holiday_date as next_holiday_date
    from spine
    asof left join holiday_days on spine.calendar_date <= holiday_days.holiday_date

),

final as (

    select
        spine.calendar_date,
        -- 0 = Sunday … 6 = Saturday
        cast(dayofweek(spine.calendar_date) as bigint) as day_of_week,
        dayofweek(spine.calendar_date) in (0, 6) as is_weekend,
        cast(month(spine.calendar_date) as bigint) as month,
        cast(quarter(spine.calendar_date) as bigint) as quarter,
        holiday_days.holiday_date is not null as is_holiday,
        holiday_days.holiday_name,
        cast(next_holiday.next_holiday_date - spine.calendar_date as bigint)
            as days_to_next_holiday,
        exists(
            select 1 from seasons
            where spine.calendar_date between seasons.season_start and seasons.season_end
        ) as is_festival_season
    from spine
    left join holiday_days on spine.calendar_date = holiday_days.holiday_date
    left join next_holiday on spine.calendar_date = next_holiday.calendar_date

)

select * from final
