"""A table's owner as Dagster's ``owners`` accept it: an e-mail address or ``team:<name>``.

The owner is the table's ``owner`` tag when it has one (a label a team set on purpose), else
its Glue ``Owner``, except ``hadoop``, which Athena's DDL writes on every table it creates and
which names nobody. Free text is mapped deterministically, so the same owner written two ways
is one team:

>>> dagster_owner("ana@example.com")
'ana@example.com'
>>> dagster_owner("Team BI"), dagster_owner("team_bi"), dagster_owner("team:BI")
('team:team-bi', 'team:team-bi', 'team:bi')
>>> dagster_owner("équipe café"), dagster_owner("  "), dagster_owner("hadoop")
('team:équipe-café', None, None)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

OWNER_TAG = "owner"
# The Owner Athena's CREATE TABLE / CTAS writes into Glue: not a person or a team.
PLACEHOLDER_OWNERS = frozenset({"hadoop"})
# Dagster's own test of an owner e-mail (dagster._core.utils.is_valid_email).
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Z|a-z]{2,7}\b")
_NOT_NAME = re.compile(r"[\W_]+")


def dagster_owner(text: str | None) -> str | None:
    """``text`` as an owner: an e-mail as is, else ``team:`` and the text in lower case with
    each run of other characters than letters and digits made one ``-`` (a leading ``team:``
    is not repeated). None for blank text, or text with no letter or digit."""
    text = (text or "").strip()
    if _EMAIL.fullmatch(text):
        return text
    if text.casefold() in PLACEHOLDER_OWNERS:
        return None
    if text.casefold().startswith("team:"):
        text = text[len("team:") :]
    slug = _NOT_NAME.sub("-", text.casefold()).strip("-")
    return f"team:{slug}" if slug else None


def table_owners(glue_owner: str | None, tags: Mapping[str, str]) -> list[str]:
    """The owners of one table: from its ``owner`` tag, else from its Glue owner."""
    owner = dagster_owner(tags.get(OWNER_TAG)) or dagster_owner(glue_owner)
    return [owner] if owner else []
