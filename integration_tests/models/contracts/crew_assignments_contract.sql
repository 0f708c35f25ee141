select
    flight_id,
    leg_no,
    employee_id,
    role
from {{ source('ops', 'crew_assignments') }}
