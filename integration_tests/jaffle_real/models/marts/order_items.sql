with order_items as (
    select * from {{ ref('int_order_items_priced') }}
),

orders as (
    select order_id, customer_id, location_id, ordered_at from {{ ref('stg_orders') }}
)

select
    order_items.order_item_id,
    order_items.order_id,
    orders.customer_id,
    orders.location_id,
    orders.ordered_at,
    order_items.product_id,
    order_items.product_name,
    order_items.product_type,
    order_items.product_price,
    order_items.supply_cost,
    order_items.product_price - order_items.supply_cost as gross_margin,
    order_items.is_food_item,
    order_items.is_drink_item
from order_items
inner join orders
    on order_items.order_id = orders.order_id
