with customers as (
    select * from {{ ref('stg_customers') }}
),

history as (
    select * from {{ ref('int_customer_order_history') }}
)

select
    customers.customer_id,
    customers.customer_name,
    coalesce(history.count_lifetime_orders, 0) as count_lifetime_orders,
    history.first_ordered_at,
    history.last_ordered_at,
    {{ dbt.datediff('history.first_ordered_at', 'history.last_ordered_at', 'day') }} as days_active,
    coalesce(history.lifetime_spend_pretax, 0) as lifetime_spend_pretax,
    coalesce(history.lifetime_tax_paid, 0) as lifetime_tax_paid,
    coalesce(history.lifetime_spend, 0) as lifetime_spend,
    case
        when history.count_lifetime_orders > 1 then 'returning'
        else 'new'
    end as customer_type
from customers
left join history
    on customers.customer_id = history.customer_id
