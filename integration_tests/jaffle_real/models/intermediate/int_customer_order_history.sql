with orders as (
    select * from {{ ref('stg_orders') }}
)

select
    customer_id,
    count(*) as count_lifetime_orders,
    min(ordered_at) as first_ordered_at,
    max(ordered_at) as last_ordered_at,
    sum(subtotal) as lifetime_spend_pretax,
    sum(tax_paid) as lifetime_tax_paid,
    sum(order_total) as lifetime_spend
from orders
group by customer_id
