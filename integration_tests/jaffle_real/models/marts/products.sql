with products as (
    select * from {{ ref('stg_products') }}
),

supply_costs as (
    select * from {{ ref('int_product_supply_costs') }}
),

sales as (
    select
        product_id,
        sum(count_sold) as count_sold,
        sum(revenue) as revenue,
        min(sale_date) as first_sold_date
    from {{ ref('int_product_daily_sales') }}
    group by product_id
)

select
    products.product_id,
    products.product_name,
    products.product_type,
    products.product_description,
    products.product_price,
    products.is_food_item,
    products.is_drink_item,
    coalesce(supply_costs.supply_cost, 0) as supply_cost,
    products.product_price - coalesce(supply_costs.supply_cost, 0) as unit_margin,
    coalesce(sales.count_sold, 0) as count_sold,
    coalesce(sales.revenue, 0) as revenue,
    sales.first_sold_date
from products
left join supply_costs
    on products.product_id = supply_costs.product_id
left join sales
    on products.product_id = sales.product_id
