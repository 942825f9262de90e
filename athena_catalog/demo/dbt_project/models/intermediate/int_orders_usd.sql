-- Ephemeral: inlined as a CTE into the marts that use it. The partner's feed repeats some
-- (currency, day) rates (assert_one_rate_per_currency_and_day warns), so they are averaged.
with rates as (
    select currency, rate_date, avg(usd_rate) as usd_rate
    from {{ source('partner_reference', 'currency_rates') }}
    group by currency, rate_date
)

select
    o.order_id,
    o.customer_id,
    o.order_ts,
    o.order_date,
    o.status,
    o.channel,
    o.currency,
    o.amount,
    cast(o.amount * coalesce(r.usd_rate, 1) as decimal(14, 2)) as amount_usd,
    s.is_revenue
from {{ ref('stg_orders') }} as o
left join rates as r
    on r.currency = o.currency and r.rate_date = o.order_date
left join {{ ref('order_statuses') }} as s
    on s.status = o.status
