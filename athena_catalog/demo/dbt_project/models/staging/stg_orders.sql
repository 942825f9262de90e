-- Orders with a non-negative amount; duplicates of the replayed delivery are kept on purpose
-- (fct_orders' unique test reports them).
select
    order_id,
    customer_id,
    order_ts,
    cast(order_ts as date) as order_date,
    status,
    channel,
    amount,
    currency
from {{ source('raw', 'orders') }}
where amount >= 0
