with source as (
    select * from {{ source('crm', 'invoices') }}
),

renamed as (
    select
        invoice_id,
        customer_id,
        customer_email,
        billing_iban,
        card_number,
        amount,
        issued_at,
        {{ dbt.date_trunc('day', 'issued_at') }} as issued_on,
        status
    from source
)

select * from renamed
