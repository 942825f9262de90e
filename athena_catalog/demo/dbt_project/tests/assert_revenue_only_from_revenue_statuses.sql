-- Singular test: a customer's revenue is the sum of their revenue-status orders in fct_orders.
with from_orders as (
    select customer_id, sum(amount_usd) as revenue_usd
    from {{ ref('fct_orders') }}
    where is_revenue and customer_id is not null
    group by customer_id
)

select c.customer_id, c.revenue_usd, o.revenue_usd as expected_usd
from {{ ref('dim_customers') }} as c
join from_orders as o on o.customer_id = c.customer_id
where c.revenue_usd <> o.revenue_usd
