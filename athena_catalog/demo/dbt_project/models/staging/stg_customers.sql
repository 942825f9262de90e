select
    customer_id,
    lower(email) as email,
    full_name,
    segment,
    country as country_code,
    signup_date
from {{ source('raw', 'customers') }}
