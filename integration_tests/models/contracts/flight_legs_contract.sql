select
    flight_id,
    leg_no,
    distance_km
from {{ source('ops', 'flight_legs') }}
