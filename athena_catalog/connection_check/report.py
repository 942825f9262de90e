"""The report printed by ``athena-catalog test-connection`` and shown by the Dagster job."""

from __future__ import annotations

from collections.abc import Sequence

from athena_catalog.connection_check.steps import FAIL, PASS, SKIP, CheckResult


def format_report(results: Sequence[CheckResult]) -> str:
    """An aligned text table, one line per step plus an indented fix line under failures."""
    name_width = max([len(r.name) for r in results] + [len("STEP")])
    lines = [f"{'STATUS':<6}  {'STEP':<{name_width}}  {'REQUIRED':<8}  DETAIL"]
    for r in results:
        detail = f"[{r.error_code}] {r.detail}" if r.error_code else r.detail
        required = "yes" if r.mandatory else "no"
        lines.append(f"{r.status:<6}  {r.name:<{name_width}}  {required:<8}  {detail}")
        if r.fix:
            lines.append(f"{'':<6}  {'':<{name_width}}  {'':<8}  fix: {r.fix}")
    counts = {s: sum(r.status == s for r in results) for s in (PASS, FAIL, SKIP)}
    verdict = "connection OK" if exit_code(results) == 0 else "connection FAILED"
    lines.append(f"{verdict}: {counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIP]} skipped")
    return "\n".join(lines)


def exit_code(results: Sequence[CheckResult]) -> int:
    """1 when any mandatory step failed, else 0 (optional failures only warn)."""
    return int(any(r.mandatory and not r.ok for r in results))
