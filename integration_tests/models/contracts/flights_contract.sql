select
    flight_id,
    origin,
    dest,
    departs_at,
    duration_min,
    fare,
    status
from {{ source('ops', 'flights') }}
