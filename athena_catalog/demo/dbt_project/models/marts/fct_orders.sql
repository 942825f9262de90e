select
    order_id,
    customer_id,
    order_date,
    status,
    channel,
    currency,
    amount,
    amount_usd,
    coalesce(is_revenue, false) as is_revenue
from {{ ref('int_orders_usd') }}
