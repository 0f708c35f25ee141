with order_items as (
    select * from {{ ref('stg_order_items') }}
),

products as (
    select * from {{ ref('stg_products') }}
),

supply_costs as (
    select * from {{ ref('int_product_supply_costs') }}
)

select
    order_items.order_item_id,
    order_items.order_id,
    order_items.product_id,
    products.product_name,
    products.product_type,
    products.product_price,
    products.is_food_item,
    products.is_drink_item,
    coalesce(supply_costs.supply_cost, 0) as supply_cost
from order_items
inner join products
    on order_items.product_id = products.product_id
left join supply_costs
    on order_items.product_id = supply_costs.product_id
