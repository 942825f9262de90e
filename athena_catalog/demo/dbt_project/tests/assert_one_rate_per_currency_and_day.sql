-- Singular test on a source, a warning only: the partner's feed repeats some days' rates.
{{ config(severity='warn', tags=['partner']) }}

select currency, rate_date, count(*) as rates
from {{ source('partner_reference', 'currency_rates') }}
group by currency, rate_date
having count(*) > 1
