"""Deterministic seed rows as Athena SQL: a quadratic hash of the row number picks every value,
so each build yields the same data, with the NULLs, skew and duplicates checks should find."""

from __future__ import annotations

_MULTIPLIERS = (2654435761, 2246822519, 3266489917, 668265263, 374761393, 1181783497)


def h(seed: int, n: int, column: str = "i") -> str:
    """A pseudo-random integer in [0, n) from an integer column: Athena SQL, no rand()."""
    mult = _MULTIPLIERS[seed % len(_MULTIPLIERS)]
    return f"(((({column} * {column} + {seed * 7919}) % 1000003) * {mult} % 1000003) % {n})"


def numbers(count: int) -> str:
    """A derived table of ``i`` = 1..count (count below 1,000 or a multiple of 1,000)."""
    if count < 1000:
        return f"(SELECT i FROM UNNEST(sequence(1, {count})) AS t(i))"
    return (
        f"(SELECT x * 1000 + y + 1 AS i FROM UNNEST(sequence(0, {count // 1000 - 1})) AS a(x)"
        " CROSS JOIN UNNEST(sequence(0, 999)) AS b(y))"
    )


def pick(seed: int, values: list[str], column: str = "i") -> str:
    """One of ``values`` (repeat a value to skew the draw)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"element_at(ARRAY[{quoted}], 1 + {h(seed, len(values), column)})"


SEGMENTS = ["consumer"] * 6 + ["smb"] * 3 + ["enterprise"]
COUNTRIES = ["US"] * 5 + ["GB", "GB", "DE", "FR", "IN", "BR", "JP", "CA", "AU", "NL"]
STATUSES = ["completed"] * 8 + ["shipped", "shipped", "cancelled", "returned", "pending"]
CHANNELS = ["web", "web", "web", "ios", "android", "marketplace"]
EVENT_TYPES = ["page_view"] * 7 + ["add_to_cart"] * 2 + ["checkout", "purchase", "search"]
CATEGORIES = ["apparel", "electronics", "home", "beauty", "sports", "toys", "grocery"]


def order_rows(first_id: int, count: int, first_day: str, days: int) -> str:
    """SELECT producing raw.orders rows: skewed customers, NULLs, nested line items."""
    customer = f"CAST(floor(power({h(1, 10007)} / 10007.0, 3) * 10000) AS bigint) + 1"
    items = (
        f"transform(sequence(1, 1 + {h(2, 4)}), k -> CAST(ROW("
        f"'SKU-' || lpad(CAST(((i * 31 + k * 17) % 500) + 1 AS varchar), 4, '0'),"
        f" CAST(1 + (i + k) % 3 AS integer), CAST(((i * 13 + k * 7) % 20000) / 100.0 + 1"
        " AS decimal(10,2))) AS ROW(sku varchar, qty integer, price decimal(10,2))))"
    )
    return f"""
SELECT order_id, customer_id, order_ts, status, channel, amount, currency, items, shipping,
       CAST(CAST(order_ts AS date) AS varchar) AS dt
FROM (
  SELECT i + {first_id - 1} AS order_id,
         IF({h(3, 200)} = 0, NULL, {customer}) AS customer_id,
         CAST(DATE '{first_day}' AS timestamp)
           + (({h(4, days)}) * INTERVAL '1' DAY) + ({h(5, 86400)} * INTERVAL '1' SECOND)
           AS order_ts,
         {pick(6, STATUSES)} AS status,
         {pick(7, CHANNELS)} AS channel,
         CAST(IF({h(8, 500)} = 0, -{h(9, 5000)}, {h(10, 40000)} + 99) / 100.0
              AS decimal(12,2)) AS amount,
         IF({h(11, 10)} < 8, 'USD', {pick(12, ["EUR", "GBP", "JPY"])}) AS currency,
         {items} AS items,
         CAST(ROW({pick(13, ["standard", "standard", "express", "pickup"])},
                  IF({h(14, 50)} = 0, NULL, CAST({h(15, 2000)} / 100.0 AS decimal(8,2))))
              AS ROW(method varchar, cost decimal(8,2))) AS shipping
  FROM {numbers(count)}
)"""


# Named on insert, so the nightly load survives the column added later in the workload.
EVENT_COLUMNS = "event_id, user_id, session_id, event_type, event_ts, page, device, properties"


def event_rows(first_id: int, count: int, first_day: str, days: int) -> str:
    """SELECT producing raw.web_events rows; anonymous visitors have NULL user ids."""
    return f"""
SELECT {EVENT_COLUMNS},
       CAST(year(event_ts) AS varchar) AS year,
       lpad(CAST(month(event_ts) AS varchar), 2, '0') AS month
FROM (
  SELECT 'evt-' || CAST(i + {first_id - 1} AS varchar) AS event_id,
         IF({h(20, 4)} = 0, NULL, CAST({h(21, 10000)} + 1 AS bigint)) AS user_id,
         'sess-' || CAST((i + {first_id - 1}) / 7 AS varchar) AS session_id,
         {pick(22, EVENT_TYPES)} AS event_type,
         CAST(DATE '{first_day}' AS timestamp) + (({h(23, days)}) * INTERVAL '1' DAY)
           + ({h(24, 86400)} * INTERVAL '1' SECOND) AS event_ts,
         {pick(25, ["/", "/search", "/product", "/product", "/cart", "/checkout"])} AS page,
         CAST(ROW({pick(26, ["ios", "android", "windows", "macos", "linux"])},
                  {pick(27, ["chrome", "safari", "firefox", "edge"])}, {h(28, 3)} = 0)
              AS ROW(os varchar, browser varchar, is_mobile boolean)) AS device,
         MAP(ARRAY['utm_source', 'referrer'],
             ARRAY[{pick(29, ["google", "newsletter", "facebook", "direct"])},
                   IF({h(30, 3)} = 0, NULL, 'https://example.com/')]) AS properties
  FROM {numbers(count)}
)"""
