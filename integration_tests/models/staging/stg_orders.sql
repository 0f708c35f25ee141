with source as (
    select * from {{ source('jaffle_shop', 'raw_orders') }}
),

renamed as (
    select
        id as order_id,
        customer as customer_id,
        store_id as location_id,
        ordered_at,
        created_at,
        subtotal,
        tax_paid,
        order_total
    from source
)

select * from renamed
