with orders as (
    select * from {{ ref('stg_orders') }}
)

select
    cast({{ dbt.date_trunc('month', 'ordered_at') }} as date) as revenue_month,
    count(*) as count_orders,
    count(distinct customer_id) as count_customers,
    sum(order_total) as revenue
from orders
group by cast({{ dbt.date_trunc('month', 'ordered_at') }} as date)
