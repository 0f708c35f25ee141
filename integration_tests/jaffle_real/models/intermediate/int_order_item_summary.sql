-- per order: how many items of each kind, their list price and supply cost
with order_items as (
    select * from {{ ref('int_order_items_priced') }}
)

select
    order_id,
    count(*) as count_order_items,
    sum(case when is_food_item then 1 else 0 end) as count_food_items,
    sum(case when is_drink_item then 1 else 0 end) as count_drink_items,
    sum(product_price) as order_items_subtotal,
    sum(supply_cost) as order_cost
from order_items
group by order_id
