with order_items as (
    select * from {{ ref('int_order_items_priced') }}
),

orders as (
    select * from {{ ref('stg_orders') }}
)

select
    order_items.product_id,
    cast(orders.ordered_at as date) as sale_date,
    count(*) as count_sold,
    sum(order_items.product_price) as revenue
from order_items
inner join orders
    on order_items.order_id = orders.order_id
group by order_items.product_id, cast(orders.ordered_at as date)
