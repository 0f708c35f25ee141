with supplies as (
    select * from {{ ref('stg_supplies') }}
),

products as (
    select product_id, product_name from {{ ref('stg_products') }}
)

select
    supplies.supply_uuid,
    supplies.supply_id,
    supplies.product_id,
    products.product_name,
    supplies.supply_name,
    supplies.supply_cost,
    supplies.is_perishable_supply
from supplies
left join products
    on supplies.product_id = products.product_id
