with orders as (
    select * from {{ ref('int_orders_located') }}
)

select
    location_id,
    location_name,
    cast(ordered_at as date) as revenue_date,
    count(*) as count_orders,
    sum(subtotal) as revenue_pretax,
    sum(tax_paid) as tax_collected,
    sum(order_total) as revenue
from orders
group by location_id, location_name, cast(ordered_at as date)
