with source as (
    select * from {{ source('crm', 'customers') }}
),

renamed as (
    select
        customer_id,
        first_name,
        last_name,
        lower(email) as email,
        phone,
        street_address,
        postal_code,
        city,
        country,
        birth_date,
        signup_date,
        {{ dbt.date_trunc('month', 'signup_date') }} as signup_month,
        segment,
        lifetime_value
    from source
)

select * from renamed
