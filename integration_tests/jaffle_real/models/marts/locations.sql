with locations as (
    select * from {{ ref('stg_locations') }}
),

revenue as (
    select
        location_id,
        sum(count_orders) as count_orders,
        sum(revenue) as revenue
    from {{ ref('int_location_daily_revenue') }}
    group by location_id
)

select
    locations.location_id,
    locations.location_name,
    locations.tax_rate,
    locations.opened_date,
    coalesce(revenue.count_orders, 0) as count_orders,
    coalesce(revenue.revenue, 0) as revenue
from locations
left join revenue
    on locations.location_id = revenue.location_id
