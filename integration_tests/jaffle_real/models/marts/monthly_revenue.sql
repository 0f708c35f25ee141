select
    revenue_month,
    count_orders,
    count_customers,
    revenue,
    revenue / count_orders as average_order_value
from {{ ref('int_monthly_revenue') }}
