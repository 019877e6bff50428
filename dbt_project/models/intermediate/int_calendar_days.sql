-- One row per calendar day from the first order to a year past the last one, with the
-- day's weekday, holiday and festival-season flags and the days to the next holiday.
-- The holiday facts are NULL on a day whose year the calendar does not cover (the seeds are
-- generated per year by `python -m ingest.holidays`): unknown, not "no holiday for years".
-- ingest/holidays.py (Calendar) is the same rule in Python, used by the Spark backfill.

with

transactions as (

    select * from {{ ref('stg_transactions') }}

),

holidays as (

    select * from {{ ref('holidays') }}

),

calendar_years as (

    select * from {{ ref('calendar_years') }}

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

-- the next holiday counts only when every year from the day's to the holiday's is covered
known_next_holiday as (

    select
        next_holiday.calendar_date,
        next_holiday.next_holiday_date
    from next_holiday
    where
        next_holiday.next_holiday_date is not null
        and (
            select count(*) from calendar_years
            where
                calendar_years.calendar_year
                between year(next_holiday.calendar_date) and year(next_holiday.next_holiday_date)
        ) = year(next_holiday.next_holiday_date) - year(next_holiday.calendar_date) + 1

),

final as (

    select
        spine.calendar_date,
        -- 0 = Sunday … 6 = Saturday
        cast(dayofweek(spine.calendar_date) as bigint) as day_of_week,
        dayofweek(spine.calendar_date) in (0, 6) as is_weekend,
        cast(month(spine.calendar_date) as bigint) as month,
        cast(quarter(spine.calendar_date) as bigint) as quarter,
        case
            when calendar_years.calendar_year is not null
                then holiday_days.holiday_date is not null
        end as is_holiday,
        holiday_days.holiday_name,
        cast(known_next_holiday.next_holiday_date - spine.calendar_date as bigint)
            as days_to_next_holiday,
        spine.calendar_date between calendar_years.festival_season_start
        and calendar_years.festival_season_end as is_festival_season
    from spine
    left join calendar_years on year(spine.calendar_date) = calendar_years.calendar_year
    left join holiday_days on spine.calendar_date = holiday_days.holiday_date
    left join known_next_holiday on spine.calendar_date = known_next_holiday.calendar_date

)

select * from final
