"""Bounded time on hostile input: the lineage parser and the local engine's statement
classifier answer every statement quickly, in any thread, and never raise.

A regex that backtracks holds the GIL, so a hang cannot be timed out from the same process:
the known pathological inputs run in a subprocess with a timeout. Everything else runs in a
worker thread, where the parser's deadline cannot rely on SIGALRM.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from athena_catalog.engines.local import LocalEngine
from athena_catalog.engines.local.statements import _leading_keyword, _split_parenthesised
from athena_catalog.engines.records import EngineError
from athena_catalog.lineage import LineageResult, parse_lineage
from athena_catalog.lineage import deadline as deadline_module
from athena_catalog.lineage.deadline import DeadlineExceeded
from athena_catalog.lineage.fingerprint import normalize
from athena_catalog_tests.lineage_corpus import load_cases, load_schema

T = TypeVar("T")
BOUND_S = 5.0  # generous: every call below takes milliseconds on a quiet machine
CORPUS = [case.sql for case in load_cases()]
SCHEMA = load_schema()


@pytest.fixture(scope="module")
def worker() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fuzz") as pool:
        yield pool


def timed(pool: ThreadPoolExecutor, call: Callable[[], T]) -> tuple[T, float]:
    """``call()`` in the worker thread, and how long it took there."""

    def run() -> tuple[T, float]:
        started = time.perf_counter()
        return call(), time.perf_counter() - started

    return pool.submit(run).result(timeout=60)


# -- the inputs that backtracked exponentially, each in a worker thread of a subprocess

_SCRIPT = textwrap.dedent(
    """
    import json, sys, threading, time
    from athena_catalog.engines.records import EngineError
    from athena_catalog.engines.local import LocalEngine
    from athena_catalog.lineage import parse_lineage

    out = {}

    def measure(name, call):
        started = time.perf_counter()
        try:
            value = call()
        except EngineError as exc:
            value = f"EngineError: {exc}"
        out[name] = (str(value), time.perf_counter() - started)

    def work():
        engine = LocalEngine(sys.argv[1], read_only=False)
        measure("lineage", lambda: parse_lineage(" " * 40 + "1").error)
        measure("lineage_paren", lambda: parse_lineage("\\n" * 40 + "(").error)
        measure("statement_type", lambda: LocalEngine.statement_type(" " * 40 + ";"))
        measure("execute", lambda: engine.execute(" " * 40 + ";"))
        engine.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    print(json.dumps(out))
    """
)


def test_whitespace_then_a_non_letter_is_answered_at_once(tmp_path: Path) -> None:
    # Before the fix each of these took hours (40 spaces; 30 took over a minute).
    run = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / "home")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = json.loads(run.stdout)
    # A bound, not a timing (hours before the fix): room for a loaded 2-core CI machine.
    assert {name: seconds < 10 for name, (_, seconds) in out.items()} == dict.fromkeys(out, True)
    assert out["lineage"][0] == "unsupported statement: Literal"
    assert out["lineage_paren"][0].startswith("parse error: ")
    assert out["statement_type"][0] == "DML"
    assert out["execute"][0].startswith("EngineError: FAILED")


def test_the_deadline_stops_analysis_in_a_worker_thread(worker: ThreadPoolExecutor) -> None:
    # 6,000 UNION branches: seconds of work inside sqlglot's compiled parser and qualifier,
    # which no check between phases reaches (7 s before the fix); SIGALRM cannot reach a
    # worker thread.
    branches = ["SELECT order_id FROM orders"] * 6000
    sql = "CREATE TABLE x AS " + " UNION ALL ".join(branches)
    result, seconds = timed(worker, lambda: parse_lineage(sql, schema=SCHEMA, timeout_s=0.2))
    assert result.error == "timeout: analysis took longer than 0.2 s"
    assert seconds < 5  # a bound, not a timing: a loaded 2-core CI machine overruns 0.2 s
    # Nothing fires into the thread once a call has returned, timed out or not.
    quick, _ = timed(worker, lambda: parse_lineage("SELECT 1", timeout_s=0.05))
    assert quick.statement == "select"
    slept, _ = timed(worker, lambda: time.sleep(0.3) or "still running")
    assert slept == "still running"


def test_linear_scans_of_huge_hostile_text(worker: ThreadPoolExecutor) -> None:
    hostile = [
        "/*a" * 80_000,  # block comments that never close: each "/*" used to rescan the rest
        " " * 500_000 + "1",
        "(" * 100_000,
        "'" + "a''" * 80_000,
        "--\n" * 80_000 + "(",
    ]
    for text in hostile:
        for call in (parse_lineage, LocalEngine.statement_type, normalize, _leading_keyword):
            _, seconds = timed(worker, functools.partial(call, text))
            # A bound, not a timing: each takes well under a second alone, a rescan per
            # token takes minutes; 10 s leaves room for a loaded 2-core CI machine.
            assert seconds < 10, (call.__name__, text[:20])


# -- property-based: mutated corpus statements

_ALPHABET = " \t\n\r'\"`()[]{},.;:*/-+=<>!?|&%$#@0123456789eEaZ_\\\x00é€\u2028"


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A corpus statement put through one to four random edits."""
    sql = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(sql)))
        kind = draw(
            st.sampled_from(
                ["insert", "delete", "duplicate", "spaces", "lead", "open", "number", "nest", "cut"]
            )
        )
        if kind == "insert":
            sql = sql[:at] + draw(st.text(_ALPHABET, min_size=1, max_size=8)) + sql[at:]
        elif kind == "delete":
            sql = sql[:at] + sql[at + draw(st.integers(1, 20)) :]
        elif kind == "duplicate":
            piece = sql[at : at + draw(st.integers(1, 40))]
            sql = sql[:at] + piece * draw(st.integers(2, 50)) + sql[at:]
        elif kind == "spaces":
            run = draw(st.sampled_from([" ", "\t", "\n", " \n"])) * draw(st.integers(1, 3000))
            sql = sql[:at] + run + sql[at:]
        elif kind == "lead":  # whitespace or comments, then something that is not a letter
            lead = draw(st.sampled_from([" ", "\n", "-- c\n", "/* c */", "/**/ "]))
            sql = lead * draw(st.integers(1, 200)) + draw(st.text(_ALPHABET, max_size=3)) + sql
        elif kind == "open":  # an unbalanced parenthesis, quote or comment
            sql = (
                sql[:at]
                + draw(st.sampled_from(["(", ")", "'", '"', "`", "/*", "*/", "--"]))
                + sql[at:]
            )
        elif kind == "number":
            digits = draw(st.sampled_from(["9", "1", "0"])) * draw(st.integers(15, 5000))
            sql = sql[:at] + f" {digits} " + sql[at:]
        elif kind == "nest":
            depth = draw(st.integers(1, 400))
            end = draw(st.integers(at, len(sql)))
            sql = sql[:at] + "(" * depth + sql[at:end] + ")" * depth + sql[end:]
        else:
            sql = sql[:at]
    return sql


@settings(
    max_examples=200,
    deadline=None,  # timed in the worker instead, with a bound that tolerates a busy machine
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(sql=mutated())
def test_mutated_statements_are_answered_in_bounded_time(
    worker: ThreadPoolExecutor, sql: str
) -> None:
    result, seconds = timed(worker, lambda: parse_lineage(sql, "awsdatacatalog", "sales", SCHEMA))
    assert isinstance(result, LineageResult)
    assert seconds < BOUND_S
    assert result.error or result.statement  # an answer, or why there is none
    assert not (result.error or "").startswith("internal error"), result.error

    kind, seconds = timed(worker, lambda: LocalEngine.statement_type(sql))
    assert kind in ("DDL", "DML", "UTILITY") and seconds < BOUND_S
    if _leading_keyword(sql)[0] == "UNLOAD":
        try:
            timed(worker, lambda: _split_parenthesised(_leading_keyword(sql)[1]))
        except EngineError as exc:
            assert "parenthesised query" in str(exc)


def test_a_deadline_landing_on_the_way_out_never_outlives_the_block(
    worker: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watchdog's exception can arrive at any bytecode, also on entry to ``disarm()``:
    the block must still end disarmed, so work the thread does afterwards is never hit."""
    watchdog = deadline_module._WATCHDOG
    real_disarm = watchdog.disarm
    calls: list[int] = []

    def disarm_hit_on_entry() -> None:
        calls.append(1)
        if len(calls) == 1:  # as if the async exception were delivered before the lock
            raise DeadlineExceeded
        real_disarm()

    monkeypatch.setattr(watchdog, "disarm", disarm_hit_on_entry)

    def block_then_more_work() -> str:
        try:
            with deadline_module.deadline(0.05):
                time.sleep(0.01)
        except DeadlineExceeded:
            pass
        time.sleep(0.4)  # unrelated work: a leaked arm would interrupt it within 0.1 s
        return "done"

    assert worker.submit(block_then_more_work).result(timeout=10) == "done"
    assert len(calls) == 2
    assert not watchdog._due
