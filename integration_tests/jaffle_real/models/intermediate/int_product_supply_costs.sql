-- what one unit of each product costs in supplies
with supplies as (
    select * from {{ ref('stg_supplies') }}
)

select
    product_id,
    sum(supply_cost) as supply_cost,
    count(*) as count_supplies,
    sum(case when is_perishable_supply then 1 else 0 end) as count_perishable_supplies
from supplies
group by product_id
