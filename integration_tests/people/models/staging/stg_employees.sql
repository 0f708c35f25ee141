with source as (
    select * from {{ source('crm', 'employees') }}
),

renamed as (
    select
        employee_id,
        full_name,
        work_email,
        mobile,
        hire_date,
        title,
        manager_id
    from source
)

select * from renamed
