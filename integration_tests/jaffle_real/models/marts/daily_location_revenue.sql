select * from {{ ref('int_location_daily_revenue') }}
