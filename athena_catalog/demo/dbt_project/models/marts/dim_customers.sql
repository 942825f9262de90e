{{ config(meta={'owner': 'crm-analytics@acme.example'}) }}

with orders as (
    select
        customer_id,
        count(*) as orders,
        sum(case when is_revenue then amount_usd else 0 end) as revenue_usd,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from {{ ref('int_orders_usd') }}
    where customer_id is not null
    group by customer_id
)

select
    c.customer_id,
    c.email,
    c.segment,
    c.country_code,
    g.region,
    c.signup_date,
    coalesce(o.orders, 0) as orders,
    cast(coalesce(o.revenue_usd, 0) as decimal(16, 2)) as revenue_usd,
    o.first_order_date,
    o.last_order_date
from {{ ref('stg_customers') }} as c
left join {{ ref('country_regions') }} as g
    on g.country_code = c.country_code
left join orders as o
    on o.customer_id = c.customer_id
