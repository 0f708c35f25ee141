with orders as (
    select * from {{ ref('stg_orders') }}
),

locations as (
    select * from {{ ref('stg_locations') }}
)

select
    orders.order_id,
    orders.customer_id,
    orders.location_id,
    locations.location_name,
    locations.tax_rate,
    orders.ordered_at,
    orders.subtotal,
    orders.tax_paid,
    orders.order_total
from orders
inner join locations
    on orders.location_id = locations.location_id
