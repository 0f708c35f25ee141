with orders as (
    select * from {{ ref('int_orders_located') }}
),

staged as (
    select order_id, subtotal_cents, tax_paid_cents, order_total_cents, ordered_at_ts
    from {{ ref('stg_orders') }}
),

item_summary as (
    select * from {{ ref('int_order_item_summary') }}
),

joined as (
    select
        orders.order_id,
        orders.customer_id,
        orders.location_id,
        orders.location_name,
        orders.ordered_at,
        staged.ordered_at_ts,
        orders.subtotal,
        orders.tax_paid,
        orders.order_total,
        staged.order_total_cents,
        coalesce(item_summary.count_order_items, 0) as count_order_items,
        coalesce(item_summary.count_food_items, 0) as count_food_items,
        coalesce(item_summary.count_drink_items, 0) as count_drink_items,
        item_summary.order_items_subtotal,
        coalesce(item_summary.order_cost, 0) as order_cost
    from orders
    inner join staged
        on orders.order_id = staged.order_id
    left join item_summary
        on orders.order_id = item_summary.order_id
)

select
    *,
    count_food_items > 0 as is_food_order,
    count_drink_items > 0 as is_drink_order,
    row_number() over (
        partition by customer_id
        order by ordered_at_ts, order_id
    ) as customer_order_number
from joined
