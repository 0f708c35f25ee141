with source as (
    select * from {{ source('jaffle_shop', 'raw_customers') }}
),

renamed as (
    select
        id as customer_id,
        name as customer_name,
        customer_uuid
    from source
)

select * from renamed
