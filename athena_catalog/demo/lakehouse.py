"""The demo lakehouse: catalogs, databases, tables, views and seed rows, all as Athena SQL.

Rows come from ``sequence``/``UNNEST`` and a quadratic hash of the row number, so every build
yields the same data, with the NULLs, skew and duplicates that data-quality checks should find.
Athena caps ``sequence`` at 10,000 elements, hence the thousand-by-N cross joins. Dates are
days before the build's anchor (``SeedDates``), so a build on another day moves every date by
the same number of days and changes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from athena_catalog.demo.rows import (
    CATEGORIES,
    COUNTRIES,
    EVENT_COLUMNS,
    SEGMENTS,
    event_rows,
    h,
    numbers,
    order_rows,
    pick,
)

PARTNER_CATALOG = "partner_lake"
ODD = "`Odd-Names`"  # mixed case and a dash: legal in Athena only when quoted


@dataclass(frozen=True)
class Statement:
    """One statement the demo runs, with the context Athena would run it in."""

    sql: str
    work_group: str = "etl"
    catalog: str | None = None
    database: str | None = None
    timeout_s: float | None = None
    expect: str = "SUCCEEDED"  # the state the demo checks it ends in


@dataclass(frozen=True)
class DataCatalogSpec:
    name: str
    type: str
    description: str
    parameters: dict[str, str]


EXTRA_CATALOGS = (
    DataCatalogSpec(
        PARTNER_CATALOG,
        "GLUE",
        "Partner sales lake shared from the partner's AWS account",
        {"catalog-id": "123456789012"},
    ),
    DataCatalogSpec(
        "dynamodb_orders",
        "LAMBDA",
        "Federated DynamoDB connector for the live order store",
        {"function": "arn:aws:lambda:us-east-1:111122223333:function:athena-dynamodb"},
    ),
)


@dataclass(frozen=True)
class SeedDates:
    """The dates the seed data is written against, as days before the anchor (the day the
    demo is built): 120 days of seed orders up to the first simulated day, CRM history before."""

    anchor: date

    def ago(self, days: int) -> str:
        return (self.anchor - timedelta(days=days)).isoformat()

    @property
    def seed_start(self) -> str:
        """First of the 120 days of seed orders, events and partner orders."""
        return self.ago(151)

    @property
    def crm_start(self) -> str:
        """Reference day of signups, campaigns, tickets and currency rates."""
        return self.ago(153)

    @property
    def active_since(self) -> str:
        return self.ago(92)

    @property
    def survey_start(self) -> str:
        return self.ago(61)

    @property
    def loaded(self) -> str:
        """The business day the seed ends on: snapshots, and the dimension's ``valid_from``."""
        return self.ago(31)


def _raw(d: SeedDates) -> list[str]:
    customers = f"""
INSERT INTO raw.customers
SELECT i AS customer_id,
       IF({h(40, 50)} = 0, NULL,
          'user' || CAST(IF({h(41, 40)} = 0, i - 1, i) AS varchar) || '@example.com') AS email,
       {pick(42, ["Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Edsger"])} || ' '
         || {pick(43, ["Lovelace", "Hopper", "Turing", "Torvalds", "Liskov", "Thompson"])}
         AS full_name,
       {pick(44, SEGMENTS)} AS segment,
       IF({h(45, 100)} = 0, NULL, {pick(46, COUNTRIES)}) AS country,
       CAST(date_add('day', -{h(47, 1500)}, DATE '{d.crm_start}') AS date) AS signup_date,
       CAST(ROW(CAST({h(48, 999)} AS varchar) || ' Main St',
                {pick(49, ["Springfield", "Portland", "Berlin", "Paris", "Tokyo", "Austin"])},
                lpad(CAST({h(50, 99999)} AS varchar), 5, '0'),
                CAST(ROW({h(51, 180)} - 90.0, {h(52, 360)} - 180.0)
                     AS ROW(lat double, lon double)))
            AS ROW(street varchar, city varchar, zip varchar,
                   geo ROW(lat double, lon double))) AS address,
       IF({h(53, 3)} = 0, ARRAY[], ARRAY['+1-555-' || lpad(CAST({h(54, 9999)} AS varchar), 4, '0')])
         AS phone_numbers,
       MAP(ARRAY['loyalty_tier', 'marketing_opt_in'],
           ARRAY[{pick(55, ["bronze", "bronze", "silver", "gold"])},
                 IF({h(56, 2)} = 0, 'true', 'false')]) AS attributes,
       CAST({h(57, 500000)} / 100.0 AS decimal(14,2)) AS lifetime_value
FROM {numbers(10000)}"""
    products = f"""
INSERT INTO raw.products
SELECT 'SKU-' || lpad(CAST(i AS varchar), 4, '0'),
       {pick(60, CATEGORIES)} || ' item ' || CAST(i AS varchar),
       {pick(61, CATEGORIES)}, CAST(({h(62, 20000)} + 100) / 100.0 AS decimal(10,2)),
       IF({h(63, 25)} = 0, NULL, {pick(64, ["Acme", "Globex", "Initech", "Umbrella"])}),
       {h(65, 2)} = 0
FROM {numbers(500)}"""
    payments = f"""
INSERT INTO raw.payments
SELECT 'pay-' || CAST(order_id AS varchar), order_id,
       {pick(70, ["card", "card", "card", "paypal", "apple_pay", "gift_card"], "order_id")},
       amount, currency,
       IF(status = 'cancelled', 'refunded', IF({h(71, 40, "order_id")} = 0, 'failed', 'captured')),
       order_ts + INTERVAL '2' MINUTE, dt
FROM raw.orders
WHERE {h(72, 10, "order_id")} <> 0"""
    inventory = f"""
INSERT INTO raw.inventory_snapshots
SELECT 'SKU-' || lpad(CAST((i - 1) % 500 + 1 AS varchar), 4, '0'),
       {pick(75, ["iad1", "pdx2", "fra1", "nrt1"])}, CAST({h(76, 400)} - 20 AS integer),
       CAST(DATE '{d.loaded}' AS timestamp) + ((i - 1) / 500) * INTERVAL '1' DAY,
       CAST(date_add('day', CAST((i - 1) / 500 AS integer), DATE '{d.loaded}') AS varchar)
FROM {numbers(5000)}"""
    campaigns = f"""
INSERT INTO raw.marketing_campaigns
SELECT i, 'Campaign ' || CAST(i AS varchar), {pick(80, ["search", "social", "email", "tv"])},
       CAST({h(81, 5000000)} / 100.0 AS decimal(12,2)),
       CAST(date_add('day', {h(82, 120)}, DATE '{d.crm_start}') AS date),
       IF({h(83, 5)} = 0, NULL,
          CAST(date_add('day', 150 + {h(84, 60)}, DATE '{d.crm_start}') AS date)),
       CAST(ROW(ARRAY[{pick(85, COUNTRIES)}, {pick(86, COUNTRIES)}], ARRAY[{pick(87, SEGMENTS)}])
            AS ROW(countries array(varchar), segments array(varchar)))
FROM {numbers(60)}"""
    tickets = f"""
INSERT INTO raw.support_tickets
SELECT i, CAST({h(90, 10000)} + 1 AS bigint), {pick(91, ["open", "closed", "closed", "pending"])},
       {pick(92, ["low", "low", "medium", "high", "urgent"])},
       CAST(DATE '{d.crm_start}' AS timestamp) + ({h(93, 120)} * INTERVAL '1' DAY),
       transform(sequence(1, 1 + {h(94, 4)}), k -> CAST(
           ROW(IF(k % 2 = 1, 'customer', 'agent'),
               CAST(DATE '{d.crm_start}' AS timestamp) + (k * INTERVAL '1' HOUR),
               'message ' || CAST(k AS varchar))
           AS ROW(author varchar, sent_at timestamp, body varchar)))
FROM {numbers(5000)}"""
    return [
        """CREATE DATABASE IF NOT EXISTS raw
COMMENT 'Landing zone: files as delivered by source systems'
LOCATION 's3://acme-lake-raw/'""",
        """CREATE EXTERNAL TABLE raw.customers (
  customer_id bigint COMMENT 'Surrogate key from the CRM',
  email string COMMENT 'Lower-cased e-mail; NULL for guests, duplicated by CRM merges',
  full_name string,
  segment string COMMENT 'consumer, smb or enterprise',
  country string COMMENT 'ISO 3166-1 alpha-2',
  signup_date date,
  address struct<street:string,city:string,zip:string,geo:struct<lat:double,lon:double>>,
  phone_numbers array<string>,
  attributes map<string,string>,
  lifetime_value decimal(14,2) COMMENT 'As computed by the CRM, USD')
COMMENT 'Customers exported nightly from the CRM'
STORED AS PARQUET
LOCATION 's3://acme-lake-raw/crm/customers/'
TBLPROPERTIES ('classification'='parquet', 'has_encrypted_data'='false',
  'source_system'='salesforce')""",
        customers,
        """CREATE EXTERNAL TABLE raw.orders (
  order_id bigint COMMENT 'Order number from the shop',
  customer_id bigint,
  order_ts timestamp COMMENT 'UTC',
  status string,
  channel string,
  amount decimal(12,2) COMMENT 'Order total in the order currency',
  currency string,
  items array<struct<sku:string,qty:int,price:decimal(10,2)>>,
  shipping struct<method:string,cost:decimal(8,2)>)
COMMENT 'Shop orders, one file per day'
PARTITIONED BY (dt string COMMENT 'Order date, yyyy-MM-dd')
STORED AS PARQUET
LOCATION 's3://acme-lake-raw/shop/orders/'
TBLPROPERTIES ('classification'='parquet', 'parquet.compression'='SNAPPY',
  'projection.enabled'='true', 'projection.dt.type'='date', 'projection.dt.format'='yyyy-MM-dd')""",
        f"INSERT INTO raw.orders {order_rows(1, 100000, d.seed_start, 120)}",
        # A replayed delivery: 300 orders arrive twice.
        "INSERT INTO raw.orders SELECT * FROM raw.orders WHERE order_id BETWEEN 5001 AND 5300",
        """CREATE EXTERNAL TABLE raw.web_events (
  event_id string,
  user_id bigint COMMENT 'NULL for anonymous visitors',
  session_id string,
  event_type string,
  event_ts timestamp,
  page string,
  device struct<os:string,browser:string,is_mobile:boolean>,
  properties map<string,string>)
COMMENT 'Clickstream from the web tracker'
PARTITIONED BY (year string, month string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://acme-lake-raw/tracking/web_events/'
TBLPROPERTIES ('classification'='json', 'compressionType'='gzip')""",
        f"INSERT INTO raw.web_events ({EVENT_COLUMNS}, year, month)"
        f" {event_rows(1, 100000, d.seed_start, 120)}",
        """CREATE EXTERNAL TABLE raw.products (
  sku string COMMENT 'Stock keeping unit',
  name string,
  category string,
  list_price decimal(10,2),
  brand string,
  discontinued boolean)
COMMENT 'Product master, CSV export from the PIM'
ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
STORED AS TEXTFILE
LOCATION 's3://acme-lake-raw/pim/products/'
TBLPROPERTIES ('classification'='csv', 'skip.header.line.count'='1')""",
        products,
        """CREATE EXTERNAL TABLE raw.payments (
  payment_id string,
  order_id bigint,
  method string,
  amount decimal(12,2),
  currency string,
  status string,
  captured_at timestamp)
COMMENT 'Payment captures from the PSP'
PARTITIONED BY (dt string)
STORED AS PARQUET
LOCATION 's3://acme-lake-raw/psp/payments/'
TBLPROPERTIES ('classification'='parquet')""",
        payments,
        """CREATE EXTERNAL TABLE raw.inventory_snapshots (
  sku string, warehouse string, on_hand int COMMENT 'Negative means oversold',
  snapshot_ts timestamp)
PARTITIONED BY (dt string)
STORED AS ORC
LOCATION 's3://acme-lake-raw/wms/inventory/'
TBLPROPERTIES ('classification'='orc', 'orc.compress'='ZLIB')""",
        inventory,
        """CREATE EXTERNAL TABLE raw.marketing_campaigns (
  campaign_id int, name string, channel string, budget decimal(12,2), start_date date,
  end_date date, targeting struct<countries:array<string>,segments:array<string>>)
COMMENT 'Campaign plan from the marketing tool'
STORED AS AVRO
LOCATION 's3://acme-lake-raw/marketing/campaigns/'""",
        campaigns,
        """CREATE EXTERNAL TABLE raw.support_tickets (
  ticket_id bigint, customer_id bigint, status string, priority string, opened_at timestamp,
  messages array<struct<author:string,sent_at:timestamp,body:string>>)
COMMENT 'Tickets from the help desk'
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://acme-lake-raw/helpdesk/tickets/'""",
        tickets,
    ]


def _staging(d: SeedDates) -> list[str]:
    return [
        """CREATE DATABASE IF NOT EXISTS staging COMMENT 'Cleaned, typed and de-duplicated'
LOCATION 's3://acme-lake-staging/'""",
        """CREATE TABLE staging.stg_customers AS
SELECT customer_id, lower(email) AS email, full_name, segment, coalesce(country, 'ZZ') AS country,
       signup_date, address.city AS city, element_at(attributes, 'loyalty_tier') AS loyalty_tier
FROM (
  SELECT c.*, row_number() OVER (PARTITION BY coalesce(email, CAST(customer_id AS varchar))
                                 ORDER BY customer_id DESC) AS rn
  FROM raw.customers c)
WHERE rn = 1""",
        """CREATE TABLE staging.stg_orders
WITH (format='PARQUET', external_location='s3://acme-lake-staging/stg_orders/',
      partitioned_by=ARRAY['dt'], write_compression='SNAPPY')
AS SELECT DISTINCT order_id, customer_id, order_ts, status, channel, amount, currency,
       shipping.method AS shipping_method, dt
FROM raw.orders WHERE amount >= 0""",
        """CREATE TABLE staging.stg_order_items
WITH (format='PARQUET', external_location='s3://acme-lake-staging/stg_order_items/',
      partitioned_by=ARRAY['dt'])
AS SELECT o.order_id, n AS line_number, o.items[n].sku AS sku, o.items[n].qty AS qty,
       o.items[n].price AS price, o.dt
FROM raw.orders o CROSS JOIN UNNEST(sequence(1, cardinality(o.items))) AS t(n)""",
        """CREATE TABLE staging.customer_dim_ice (
  customer_id bigint COMMENT 'Business key',
  email string,
  segment string,
  country string,
  loyalty_tier string,
  valid_from timestamp,
  is_current boolean)
COMMENT 'Type-1 customer dimension, merged nightly'
LOCATION 's3://acme-lake-staging/iceberg/customer_dim/'
TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet', 'write_compression'='zstd')""",
        f"""INSERT INTO staging.customer_dim_ice
SELECT customer_id, email, segment, country, loyalty_tier, TIMESTAMP '{d.loaded} 00:00:00', true
FROM staging.stg_customers""",
        """CREATE TABLE staging.stg_web_sessions
WITH (format='PARQUET', partitioned_by=ARRAY['year', 'month'])
AS SELECT session_id, max(user_id) AS user_id, min(event_ts) AS started_at,
       max(event_ts) AS ended_at, count(*) AS events,
       count_if(event_type = 'purchase') AS purchases, max(device.os) AS os, year, month
FROM raw.web_events GROUP BY session_id, year, month""",
    ]


def _analytics(d: SeedDates) -> list[str]:
    return [
        """CREATE DATABASE IF NOT EXISTS analytics COMMENT 'Marts for BI dashboards'
LOCATION 's3://acme-lake-analytics/'""",
        """CREATE TABLE analytics.daily_revenue
WITH (format='PARQUET', external_location='s3://acme-lake-analytics/daily_revenue/',
      partitioned_by=ARRAY['dt'])
AS SELECT o.channel, c.segment, c.country, count(*) AS orders,
       CAST(sum(o.amount) AS decimal(18,2)) AS revenue, o.dt
FROM staging.stg_orders o LEFT JOIN staging.stg_customers c ON o.customer_id = c.customer_id
WHERE o.status IN ('completed', 'shipped')
GROUP BY o.channel, c.segment, c.country, o.dt""",
        """CREATE TABLE analytics.customer_ltv AS
SELECT c.customer_id, c.segment, c.country, count(o.order_id) AS orders,
       coalesce(sum(o.amount), 0) AS lifetime_revenue, min(o.order_ts) AS first_order_ts,
       max(o.order_ts) AS last_order_ts
FROM staging.stg_customers c LEFT JOIN staging.stg_orders o ON o.customer_id = c.customer_id
GROUP BY c.customer_id, c.segment, c.country""",
        """CREATE TABLE analytics.product_performance
WITH (format='ORC', external_location='s3://acme-lake-analytics/product_performance/')
AS SELECT i.sku, p.category, p.brand, sum(i.qty) AS units, sum(i.qty * i.price) AS revenue,
       count(DISTINCT i.order_id) AS orders
FROM staging.stg_order_items i LEFT JOIN raw.products p ON p.sku = i.sku
GROUP BY i.sku, p.category, p.brand""",
        """CREATE TABLE analytics.funnel_daily
WITH (table_type='ICEBERG', location='s3://acme-lake-analytics/iceberg/funnel_daily/',
      is_external=false, format='PARQUET')
AS SELECT CAST(CAST(event_ts AS date) AS varchar) AS dt, device.os AS os,
       count_if(event_type = 'page_view') AS page_views,
       count_if(event_type = 'add_to_cart') AS add_to_carts,
       count_if(event_type = 'checkout') AS checkouts,
       count_if(event_type = 'purchase') AS purchases
FROM raw.web_events GROUP BY 1, 2""",
        """CREATE OR REPLACE VIEW analytics.v_revenue_by_segment AS
SELECT dt, segment, sum(orders) AS orders, sum(revenue) AS revenue
FROM analytics.daily_revenue
GROUP BY dt, segment""",
        f"""CREATE OR REPLACE VIEW analytics.v_active_customers AS
SELECT customer_id, segment, country, last_order_ts
FROM analytics.customer_ltv
WHERE last_order_ts >= TIMESTAMP '{d.active_since} 00:00:00'""",
        """CREATE OR REPLACE VIEW analytics.v_top_products AS
SELECT sku, category, brand, revenue,
       rank() OVER (PARTITION BY category ORDER BY revenue DESC) AS category_rank
FROM analytics.product_performance""",
        f"""CREATE OR REPLACE VIEW analytics.v_orders_usd AS
SELECT o.order_id, o.customer_id, o.order_ts, o.status, o.currency,
       o.amount * coalesce(r.usd_rate, 1) AS amount_usd, c.segment, o.dt
FROM staging.stg_orders o
LEFT JOIN staging.stg_customers c ON c.customer_id = o.customer_id
LEFT JOIN {PARTNER_CATALOG}.reference.currency_rates r
  ON r.currency = o.currency AND r.rate_date = CAST(o.order_ts AS date)""",
    ]


def _odd_names() -> list[str]:
    return [
        f"CREATE DATABASE IF NOT EXISTS {ODD} COMMENT 'Names that need quoting everywhere'",
        f"""CREATE EXTERNAL TABLE {ODD}.`select` (
  `order` bigint COMMENT 'A reserved word as a column',
  `from` string,
  `user id` string COMMENT 'A space in a column name',
  `Amount EUR` decimal(10,2))
COMMENT 'A table named after a reserved word'
STORED AS PARQUET
LOCATION 's3://acme-lake-odd/select/'""",
        f"""INSERT INTO "Odd-Names"."select"
SELECT i, {pick(100, ["web", "store", "phone"])}, 'u-' || CAST({h(101, 300)} AS varchar),
       CAST({h(102, 100000)} / 100.0 AS decimal(10,2))
FROM {numbers(2000)}""",
        f"""CREATE EXTERNAL TABLE {ODD}.`Mixed Case Table` (
  `CamelCaseId` int, `ünïcode_näme` string COMMENT 'Unicode column name',
  `Nested-Field` struct<`Inner Key`:string,`values`:array<int>>)
PARTITIONED BY (`Region` string)
STORED AS PARQUET
LOCATION 's3://acme-lake-odd/mixed_case/'""",
        f"""INSERT INTO "Odd-Names"."Mixed Case Table"
SELECT CAST(i AS integer), 'näme ' || CAST(i AS varchar),
       CAST(ROW('k' || CAST(i % 5 AS varchar), ARRAY[CAST(i AS integer), 1])
            AS ROW("Inner Key" varchar, "values" array(integer))),
       {pick(103, ["EMEA", "AMER", "APAC"])}
FROM {numbers(300)}""",
        f"""CREATE EXTERNAL TABLE {ODD}.`café_ventes` (
  `numéro` bigint, `catégorie` string, `prix_€` decimal(10,2), `payé` boolean)
COMMENT 'Ventes du café, table et colonnes en français'
STORED AS PARQUET
LOCATION 's3://acme-lake-odd/cafe_ventes/'""",
        f"""INSERT INTO "Odd-Names"."café_ventes"
SELECT i, {pick(104, ["boisson", "pâtisserie", "sandwich"])},
       CAST(({h(105, 900)} + 100) / 100.0 AS decimal(10,2)), {h(106, 10)} <> 0
FROM {numbers(1000)}""",
        f"""CREATE EXTERNAL TABLE {ODD}.`order-lines` (`line-id` bigint, `order` bigint, qty int)
STORED AS PARQUET
LOCATION 's3://acme-lake-odd/order-lines/'""",
        f"""INSERT INTO "Odd-Names"."order-lines"
SELECT i, 1 + {h(107, 2000)}, CAST(1 + {h(108, 5)} AS integer) FROM {numbers(4000)}""",
        """CREATE OR REPLACE VIEW "Odd-Names"."Daily Summary" AS
SELECT s."from" AS source, count(*) AS "order count", sum(s."Amount EUR") AS "total €"
FROM "Odd-Names"."select" s
GROUP BY s."from\"""",
    ]


def _sandbox(d: SeedDates) -> list[str]:
    return [
        """CREATE DATABASE IF NOT EXISTS sandbox COMMENT 'Analysts scratch space, cleaned weekly'
LOCATION 's3://acme-athena-scratch/sandbox/'""",
        """CREATE TABLE sandbox.tmp_big_spenders AS
SELECT customer_id, lifetime_revenue FROM analytics.customer_ltv
WHERE lifetime_revenue > 2000""",
        """CREATE TABLE sandbox.survey_responses (
  response_id bigint, customer_id bigint, nps int, answers map<string,string>,
  submitted_at timestamp)
LOCATION 's3://acme-athena-scratch/sandbox/survey/'
TBLPROPERTIES ('table_type'='ICEBERG')""",
        f"""INSERT INTO sandbox.survey_responses
SELECT i, CAST({h(110, 10000)} + 1 AS bigint), CAST({h(111, 11)} AS integer),
       MAP(ARRAY['q1', 'q2'], ARRAY[{pick(112, ["yes", "no"])}, IF({h(113, 4)} = 0, NULL, 'ok')]),
       CAST(DATE '{d.survey_start}' AS timestamp) + ({h(114, 30)} * INTERVAL '1' DAY)
FROM {numbers(800)}""",
    ]


def _partner(d: SeedDates) -> list[str]:
    rates = f"""
INSERT INTO reference.currency_rates
SELECT currency, d AS rate_date,
       CAST(base * (1 + ({h(120, 200, "i")} - 100) / 10000.0) AS decimal(12,6)) AS usd_rate,
       'ecb' AS source
FROM (
  SELECT i, element_at(ARRAY['EUR', 'GBP', 'JPY', 'USD'], 1 + (i - 1) % 4) AS currency,
         element_at(ARRAY[1.08, 1.27, 0.0067, 1.0], 1 + (i - 1) % 4) AS base,
         CAST(date_add('day', CAST((i - 1) / 4 AS integer), DATE '{d.crm_start}') AS date) AS d
  FROM {numbers(1000)})"""
    return [
        """CREATE DATABASE IF NOT EXISTS shared_sales
COMMENT 'Sales shared by our reseller partner' LOCATION 's3://partner-lake-123456789012/sales/'""",
        """CREATE EXTERNAL TABLE shared_sales.partner_accounts (
  account_id bigint, account_name string, tier string, country string,
  contacts array<struct<name:string,email:string>>)
COMMENT 'Reseller accounts'
STORED AS PARQUET
LOCATION 's3://partner-lake-123456789012/sales/accounts/'""",
        f"""INSERT INTO shared_sales.partner_accounts
SELECT i, 'Account ' || CAST(i AS varchar), {pick(121, ["gold", "silver", "bronze", "bronze"])},
       {pick(122, COUNTRIES)},
       ARRAY[CAST(ROW('Contact ' || CAST(i AS varchar), IF({h(123, 8)} = 0, NULL,
             'c' || CAST(i AS varchar) || '@partner.example')) AS ROW(name varchar, email varchar))]
FROM {numbers(1000)}""",
        """CREATE EXTERNAL TABLE shared_sales.partner_orders (
  partner_order_id string, account_id bigint, sku string, qty int, net_amount decimal(12,2),
  currency string, ordered_at timestamp)
COMMENT 'Orders placed through the partner'
PARTITIONED BY (dt string)
STORED AS PARQUET
LOCATION 's3://partner-lake-123456789012/sales/orders/'
TBLPROPERTIES ('classification'='parquet', 'shared_by'='partner-account-123456789012')""",
        f"""INSERT INTO shared_sales.partner_orders
SELECT 'P-' || CAST(i AS varchar), CAST({h(124, 1000)} + 1 AS bigint),
       'SKU-' || lpad(CAST({h(125, 500)} + 1 AS varchar), 4, '0'), CAST(1 + {h(126, 9)} AS integer),
       CAST({h(127, 300000)} / 100.0 AS decimal(12,2)), {pick(128, ["EUR", "EUR", "GBP"])},
       CAST(DATE '{d.seed_start}' AS timestamp) + ({h(129, 120)} * INTERVAL '1' DAY),
       CAST(date_add('day', {h(129, 120)}, DATE '{d.seed_start}') AS varchar)
FROM {numbers(20000)}""",
        """CREATE OR REPLACE VIEW shared_sales.v_partner_revenue AS
SELECT a.tier, o.dt, count(*) AS orders, sum(o.net_amount) AS net_amount
FROM shared_sales.partner_orders o JOIN shared_sales.partner_accounts a
  ON a.account_id = o.account_id
GROUP BY a.tier, o.dt""",
        """CREATE DATABASE IF NOT EXISTS reference
COMMENT 'Reference data maintained by the partner'
LOCATION 's3://partner-lake-123456789012/reference/'""",
        """CREATE EXTERNAL TABLE reference.currency_rates (
  currency string COMMENT 'ISO 4217', rate_date date, usd_rate decimal(12,6), source string)
COMMENT 'Daily FX rates to USD'
ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
STORED AS TEXTFILE
LOCATION 's3://partner-lake-123456789012/reference/currency_rates/'""",
        rates,
        """CREATE EXTERNAL TABLE reference.country_codes (
  alpha2 string, name string, region string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://partner-lake-123456789012/reference/country_codes/'""",
        """INSERT INTO reference.country_codes VALUES
  ('US', 'United States', 'AMER'), ('GB', 'United Kingdom', 'EMEA'), ('DE', 'Germany', 'EMEA'),
  ('FR', 'France', 'EMEA'), ('IN', 'India', 'APAC'), ('BR', 'Brazil', 'AMER'),
  ('JP', 'Japan', 'APAC'), ('CA', 'Canada', 'AMER'), ('AU', 'Australia', 'APAC'),
  ('NL', 'Netherlands', 'EMEA'), ('NL', 'Netherlands', 'EMEA')""",
    ]


def lakehouse_statements(anchor: date) -> list[Statement]:
    """Everything the initial build runs, in dependency order (partner data first), with its
    dates relative to ``anchor``."""
    d = SeedDates(anchor)
    partner = [Statement(sql, catalog=PARTNER_CATALOG) for sql in _partner(d)]
    ours = _raw(d) + _staging(d) + _analytics(d) + _odd_names() + _sandbox(d)
    return partner + [Statement(sql) for sql in ours]


# (catalog, database, table) -> tags, applied with TagResource after the build.
TAGS: dict[tuple[str, str, str], dict[str, str]] = {
    ("AwsDataCatalog", "raw", "customers"): {"pii": "true", "owner": "team-crm"},
    ("AwsDataCatalog", "raw", "orders"): {"owner": "team-shop", "domain": "sales", "tier": "gold"},
    ("AwsDataCatalog", "raw", "payments"): {"owner": "team-finance", "sox": "in-scope"},
    ("AwsDataCatalog", "staging", "customer_dim_ice"): {"pii": "true", "owner": "team-data"},
    ("AwsDataCatalog", "analytics", "daily_revenue"): {"owner": "team-bi", "sla": "06:00Z"},
    ("AwsDataCatalog", "analytics", "customer_ltv"): {"owner": "team-bi", "cost-center": "cc-4711"},
    ("AwsDataCatalog", "Odd-Names", "café_ventes"): {"owner": "équipe café", "env": "prod"},
    (PARTNER_CATALOG, "shared_sales", "partner_orders"): {"shared": "true", "owner": "partner"},
}
