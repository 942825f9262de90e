"""Thirty simulated days of Athena traffic against the demo lakehouse.

Each day has a nightly ETL run (work group ``etl``), BI dashboards refreshing with changing
literals (``bi_dashboards``), analysts exploring (``adhoc``) - including typos, missing
tables and a runaway query the time limit cancels - and some housekeeping (``primary``).
Submission times come from a seeded generator, so every build has the same history, relative
to its anchor: the midnight (UTC) starting the day the demo is built. The simulated days are
the ``DAYS`` days before it, so the history ends the evening before the build and a default
usage window read on the build day covers all of it; built on another day, only the dates move.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from athena_catalog.demo.lakehouse import PARTNER_CATALOG, Statement
from athena_catalog.demo.rows import EVENT_COLUMNS, event_rows, order_rows

DAYS = 30
CANCEL_AFTER_S = 0.25
ORDERS_PER_DAY = 1000
EVENTS_PER_DAY = 2000
SEGMENTS = ("consumer", "smb", "enterprise")
COUNTRIES = ("US", "GB", "DE", "FR", "IN", "BR", "JP")

Scheduled = tuple[datetime, Statement]


def demo_anchor(at: datetime) -> datetime:
    """The anchor of a demo built at ``at``: the midnight (UTC) that starts that day, so any
    build on one day gives the same history."""
    day = at.astimezone(UTC).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def setup_time(anchor: datetime) -> datetime:
    """When the lakehouse is built: the night before the first simulated day."""
    return anchor - timedelta(days=DAYS, hours=2)


def workload(anchor: datetime, days: int = DAYS) -> Iterator[Scheduled]:
    """Every statement of the first ``days`` simulated days before ``anchor``, in submission
    order."""
    rng = random.Random(20261101)
    for days_before in range(DAYS, DAYS - days, -1):
        day = anchor - timedelta(days=days_before)
        index = DAYS - days_before  # 0 for the first simulated day
        statements: list[Scheduled] = []
        statements += _etl(day, index)
        statements += _dashboards(day, rng)
        statements += _adhoc(day, index, rng)
        statements += _housekeeping(day, index)
        yield from sorted(statements, key=lambda s: s[0])


def _at(day: datetime, hour: int, minute: int, second: int = 0) -> datetime:
    return day + timedelta(hours=hour, minutes=minute, seconds=second)


def _etl(day: datetime, index: int) -> list[Scheduled]:
    """02:00-03:00: land the day's files, rebuild staging and marts, export."""
    ds = (day.date() - timedelta(days=1)).isoformat()  # the business day just closed
    first_order = 200_001 + index * ORDERS_PER_DAY
    first_event = 200_001 + index * EVENTS_PER_DAY
    steps = [
        f"INSERT INTO raw.orders {order_rows(first_order, ORDERS_PER_DAY, ds, 1)}",
        f"INSERT INTO raw.web_events ({EVENT_COLUMNS}, year, month)"
        f" {event_rows(first_event, EVENTS_PER_DAY, ds, 1)}",
        f"""INSERT INTO raw.payments
SELECT 'pay-' || CAST(order_id AS varchar), order_id, 'card', amount, currency,
       IF(status = 'cancelled', 'refunded', 'captured'), order_ts + INTERVAL '2' MINUTE, dt
FROM raw.orders WHERE dt = '{ds}' AND order_id >= {first_order}""",
        f"""INSERT INTO staging.stg_orders
SELECT DISTINCT order_id, customer_id, order_ts, status, channel, amount, currency,
       shipping.method, dt
FROM raw.orders WHERE dt = '{ds}' AND amount >= 0""",
        "DROP TABLE IF EXISTS staging.stg_orders_today",
        f"""CREATE TABLE staging.stg_orders_today
WITH (format='PARQUET', external_location='s3://acme-lake-staging/stg_orders_today/{ds}/',
      partitioned_by=ARRAY['dt'])
AS SELECT order_id, customer_id, amount, status, dt FROM staging.stg_orders WHERE dt = '{ds}'""",
        f"""MERGE INTO staging.customer_dim_ice d
USING (SELECT customer_id, email, segment, country, loyalty_tier FROM staging.stg_customers
       WHERE customer_id % 30 = {index}) s
ON d.customer_id = s.customer_id
WHEN MATCHED THEN UPDATE SET segment = s.segment, valid_from = TIMESTAMP '{ds} 23:59:59'
WHEN NOT MATCHED THEN INSERT (customer_id, email, segment, country, loyalty_tier, valid_from,
  is_current) VALUES (s.customer_id, s.email, s.segment, s.country, s.loyalty_tier,
  TIMESTAMP '{ds} 23:59:59', true)""",
        f"""INSERT INTO analytics.daily_revenue
SELECT o.channel, c.segment, c.country, count(*), CAST(sum(o.amount) AS decimal(18,2)), o.dt
FROM staging.stg_orders o LEFT JOIN staging.stg_customers c ON o.customer_id = c.customer_id
WHERE o.dt = '{ds}' AND o.status IN ('completed', 'shipped')
GROUP BY o.channel, c.segment, c.country, o.dt""",
        f"DELETE FROM analytics.funnel_daily WHERE dt = '{ds}'",
        f"""INSERT INTO analytics.funnel_daily
SELECT CAST(CAST(event_ts AS date) AS varchar), device.os, count_if(event_type = 'page_view'),
       count_if(event_type = 'add_to_cart'), count_if(event_type = 'checkout'),
       count_if(event_type = 'purchase')
FROM raw.web_events WHERE CAST(event_ts AS date) = DATE '{ds}' GROUP BY 1, 2""",
        f"""UNLOAD (SELECT dt, segment, revenue FROM analytics.v_revenue_by_segment
        WHERE dt = '{ds}')
TO 's3://acme-exports/finance/revenue_by_segment/dt={ds}/'
WITH (format='PARQUET', compression='SNAPPY')""",
    ]
    if index % 7 == 6:  # weekly: rebuild the lifetime-value mart and its view
        steps += [
            "DROP TABLE IF EXISTS analytics.customer_ltv",
            """CREATE TABLE analytics.customer_ltv AS
SELECT c.customer_id, c.segment, c.country, count(o.order_id) AS orders,
       coalesce(sum(o.amount), 0) AS lifetime_revenue, min(o.order_ts) AS first_order_ts,
       max(o.order_ts) AS last_order_ts
FROM staging.stg_customers c LEFT JOIN staging.stg_orders o ON o.customer_id = c.customer_id
GROUP BY c.customer_id, c.segment, c.country""",
            f"""CREATE OR REPLACE VIEW analytics.v_active_customers AS
SELECT customer_id, segment, country, last_order_ts
FROM analytics.customer_ltv
WHERE last_order_ts >= TIMESTAMP '{ds} 00:00:00' - INTERVAL '60' DAY""",
        ]
    return [(_at(day, 2, 3 * n, 7), Statement(sql, "etl")) for n, sql in enumerate(steps)]


def _dashboards(day: datetime, rng: random.Random) -> list[Scheduled]:
    """Business hours: the same dashboard tiles, with the date range and filters moving."""
    today = day.date()
    tiles = [
        lambda: (
            f"""SELECT dt, sum(revenue) AS revenue, sum(orders) AS orders
FROM analytics.daily_revenue WHERE dt >= '{_ago(today, rng.choice((7, 14, 28)))}'
GROUP BY dt ORDER BY dt"""
        ),
        lambda: (
            f"""SELECT segment, sum(revenue) AS revenue FROM analytics.v_revenue_by_segment
WHERE dt BETWEEN '{_ago(today, 30)}' AND '{_ago(today, 1)}' GROUP BY segment ORDER BY 2 DESC"""
        ),
        lambda: (
            f"""SELECT country, count(*) AS customers FROM analytics.v_active_customers
WHERE segment = '{rng.choice(SEGMENTS)}' GROUP BY country ORDER BY customers DESC LIMIT 10"""
        ),
        lambda: (
            f"""SELECT sku, category, revenue FROM analytics.v_top_products
WHERE category_rank <= {rng.choice((3, 5, 10))} ORDER BY category, category_rank"""
        ),
        lambda: (
            f"""SELECT os, sum(purchases) * 1.0 / nullif(sum(page_views), 0) AS conversion
FROM analytics.funnel_daily WHERE dt >= '{_ago(today, rng.choice((7, 30)))}' GROUP BY os"""
        ),
        lambda: (
            f"""SELECT a.tier, sum(o.net_amount) AS net_amount
FROM {PARTNER_CATALOG}.shared_sales.partner_orders o
JOIN {PARTNER_CATALOG}.shared_sales.partner_accounts a ON a.account_id = o.account_id
WHERE a.country = '{rng.choice(COUNTRIES)}' GROUP BY a.tier"""
        ),
        lambda: (
            f"""SELECT segment, count(*) AS orders, sum(amount_usd) AS revenue_usd
FROM analytics.v_orders_usd WHERE dt = '{_ago(today, rng.randint(1, 5))}'
GROUP BY segment"""
        ),
    ]
    scheduled = []
    for refresh in range(3):  # 08:00, 12:00, 16:00 refreshes of every tile
        for n, tile in enumerate(tiles):
            when = _at(day, 8 + 4 * refresh, 2 * n, rng.randint(0, 59))
            scheduled.append((when, Statement(tile(), "bi_dashboards", database="analytics")))
    return scheduled


def _adhoc(day: datetime, index: int, rng: random.Random) -> list[Scheduled]:
    """Analysts: joins across schemas and catalogs, mistakes, and one runaway query a week."""
    country = rng.choice(COUNTRIES)
    since = _ago(day.date(), rng.randint(3, 20))
    queries = [
        Statement(
            f"""SELECT c.segment, count(DISTINCT o.order_id) AS orders, avg(o.amount) AS aov
FROM raw.orders o JOIN staging.stg_customers c ON c.customer_id = o.customer_id
WHERE o.dt >= '{since}' AND c.country = '{country}' GROUP BY c.segment""",
            "adhoc",
        ),
        Statement(
            f"""SELECT p.category, sum(i.qty) AS units
FROM staging.stg_order_items i JOIN raw.products p ON p.sku = i.sku
WHERE i.dt >= '{since}' GROUP BY p.category ORDER BY units DESC""",
            "adhoc",
        ),
        Statement(
            f"""SELECT r.currency, avg(r.usd_rate) AS avg_rate
FROM {PARTNER_CATALOG}.reference.currency_rates r
WHERE r.rate_date >= DATE '{since}' GROUP BY r.currency""",
            "adhoc",
        ),
        Statement(
            f"""SELECT "from", sum("Amount EUR") FROM "Odd-Names"."select"
WHERE "order" % {rng.randint(2, 9)} = 0 GROUP BY "from\"""",
            "adhoc",
        ),
        Statement("SHOW TABLES IN analytics", "adhoc"),
        Statement(
            f"DESCRIBE {rng.choice(('orders', 'customers', 'web_events'))}", "adhoc", database="raw"
        ),
    ]
    mistakes = [
        Statement("SELEC count(*) FROM raw.orders", "adhoc", expect="FAILED"),
        Statement("SELECT * FROM analytics.daily_revenu LIMIT 10", "adhoc", expect="FAILED"),
        Statement("SELECT revenue_usd FROM analytics.daily_revenue", "adhoc", expect="FAILED"),
        Statement(
            "UPDATE raw.orders SET status = 'completed' WHERE order_id = 1",
            "adhoc",
            expect="FAILED",
        ),
        Statement("SELECT * FROM orders LIMIT 5", "adhoc", database="raww", expect="FAILED"),
    ]
    queries.append(mistakes[index % len(mistakes)])
    if index % 5 == 2:
        queries.append(
            Statement(
                """SELECT o.customer_id, count(*) AS hits
FROM raw.orders o, raw.web_events e
WHERE e.session_id LIKE '%' || CAST(o.order_id AS varchar) || '%'
GROUP BY o.customer_id""",
                "adhoc",
                timeout_s=CANCEL_AFTER_S,
                expect="CANCELLED",
            )
        )
    return [
        (_at(day, 10 + n, rng.randint(0, 59), rng.randint(0, 59)), statement)
        for n, statement in enumerate(queries)
    ]


def _housekeeping(day: datetime, index: int) -> list[Scheduled]:
    """primary: schema changes and the weekly sandbox clean-up."""
    statements = ["SHOW DATABASES"]
    if index == 9:
        statements.append(
            "ALTER TABLE raw.web_events ADD COLUMNS (utm_campaign string COMMENT 'Added day 10')"
        )
    if index == 20:
        statements.append(
            "ALTER TABLE raw.customers ADD COLUMNS (churn_risk double, preferred_store string)"
        )
    if index % 7 == 3:
        statements += [
            "DROP TABLE IF EXISTS sandbox.tmp_big_spenders",
            f"""CREATE TABLE sandbox.tmp_big_spenders
WITH (format='PARQUET', external_location='s3://acme-athena-scratch/sandbox/big_spenders/{index}/')
AS SELECT customer_id, lifetime_revenue FROM analytics.customer_ltv
WHERE lifetime_revenue > {1000 + 100 * index}""",
        ]
    return [(_at(day, 19, 5 * n), Statement(sql, "primary")) for n, sql in enumerate(statements)]


def _ago(today: date, days: int) -> str:
    return (today - timedelta(days=days)).isoformat()
