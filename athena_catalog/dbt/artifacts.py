"""Reading a dbt target folder: ``manifest.json`` (required), ``catalog.json``, ``sources.json``
and ``run_results*.json`` (optional), from a local folder or an ``s3://`` prefix.

Artifacts are checked as they are parsed, before anything reaches the store: a schema version
this module does not read, JSON that does not parse (a file cut short by a failed upload), a
missing required key or a value of the wrong type raise :class:`ArtifactError` naming the file
and the JSON path (``manifest.json: $.nodes['model.shop.orders'].depends_on.nodes: expected a
list, got str``). Keys this module does not know are ignored, so newer dbt minor versions read.

Accepted: manifest v11 (dbt 1.7) and v12 (dbt 1.8 to 1.11), catalog v1, run_results v4 to v6,
sources v3. The set's digest (every file's name and bytes) says whether it changed since it
was last applied.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from athena_catalog.timeutil import as_utc

MANIFEST = "manifest.json"
CATALOG = "catalog.json"
SOURCES = "sources.json"
RUN_RESULTS = re.compile(r"run_results.*\.json")

# Artifact kind -> the schema versions read (``dbt_schema_version`` ends in /<kind>/v<N>.json).
VERSIONS = {
    "manifest": (11, 12),
    "catalog": (1,),
    "run-results": (4, 5, 6),
    "sources": (3,),
}
_SCHEMA_VERSION = re.compile(r"/dbt/([a-z-]+)/v(\d+)\.json$")
RELATION_TYPES = ("model", "seed", "snapshot")


class ArtifactError(ValueError):
    """A dbt artifact this version cannot read: the message names the file and where in it."""


# -- where the artifacts are


def read_target(target: str, s3_client: Any = None) -> dict[str, bytes]:
    """The artifact files of one target folder, by file name. ``s3://bucket/prefix`` is read
    with ``s3_client`` (a boto3 S3 client); anything else is a local folder."""
    files = _read_s3(target, s3_client) if target.startswith("s3://") else _read_local(target)
    if MANIFEST not in files:
        raise ArtifactError(f"{target}: no {MANIFEST} (the dbt target folder's manifest)")
    return files


def _wanted(name: str) -> bool:
    return name in (MANIFEST, CATALOG, SOURCES) or bool(RUN_RESULTS.fullmatch(name))


def _read_local(target: str) -> dict[str, bytes]:
    folder = Path(target)
    if not folder.is_dir():
        raise ArtifactError(f"{target}: not a folder")
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if _wanted(p.name)}


def _read_s3(target: str, s3_client: Any) -> dict[str, bytes]:
    if s3_client is None:
        raise ArtifactError(f"{target}: an s3:// target needs the athena resource's session")
    bucket, _, prefix = target.removeprefix("s3://").partition("/")
    if not bucket:
        raise ArtifactError(f"{target}: no bucket in the s3:// URI")
    prefix = prefix.rstrip("/") + "/" if prefix.strip("/") else ""
    files: dict[str, bytes] = {}
    operation = "ListObjectsV2"
    try:
        pages = s3_client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/"
        )
        for page in pages:
            for item in page.get("Contents", ()):
                name = item["Key"][len(prefix) :]
                if _wanted(name):
                    operation = f"GetObject {item['Key']}"
                    body = s3_client.get_object(Bucket=bucket, Key=item["Key"])["Body"]
                    files[name] = body.read()
    except (BotoCoreError, ClientError) as e:
        raise ArtifactError(f"{target}: s3:{operation} failed: {_aws_reason(e)}") from None
    return files


def _aws_reason(e: Exception) -> str:
    if isinstance(e, ClientError):
        error = e.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    return str(e)


def digest(files: Mapping[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


# -- checked JSON access


def _path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f"{path}[{key!r}]"


_MISSING = object()
_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}


@dataclass(frozen=True)
class _At:
    """One JSON value and where it is: checked reads raise ArtifactError with the path."""

    file: str
    path: str
    value: Any

    def fail(self, reason: str) -> ArtifactError:
        return ArtifactError(f"{self.file}: {self.path}: {reason}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> _At:
        if not isinstance(self.value, dict):
            raise self.fail("expected an object")
        at = _At(self.file, _path(self.path, key), self.value.get(key, _MISSING))
        if at.value is _MISSING or (at.value is None and default is not _MISSING):
            if default is _MISSING:
                raise at.fail("missing required key")
            return _At(self.file, at.path, default)
        if not isinstance(at.value, kind) or (kind is int and isinstance(at.value, bool)):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            wanted = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
            raise at.fail(f"expected {wanted}, got {type(at.value).__name__}")
        return at

    def text(self, key: str, default: str | None = None) -> str | None:
        """A string, None or absent (then ``default``)."""
        return self.get(key, (str, type(None)), default).value

    def required_text(self, key: str) -> str:
        return self.get(key, str).value

    def items(self) -> Iterator[tuple[str, _At]]:
        if not isinstance(self.value, dict):
            raise self.fail("expected an object")
        for key, value in self.value.items():
            yield key, _At(self.file, _path(self.path, key), value)

    def elements(self) -> Iterator[_At]:
        if not isinstance(self.value, list):
            raise self.fail("expected a list")
        for i, value in enumerate(self.value):
            yield _At(self.file, _path(self.path, i), value)

    def strings(self, key: str) -> tuple[str, ...]:
        at = self.get(key, list, [])
        out = []
        for element in at.elements():
            if not isinstance(element.value, str):
                raise element.fail(f"expected a string, got {type(element.value).__name__}")
            out.append(element.value)
        return tuple(out)


def load_json(name: str, data: bytes) -> _At:
    """The parsed document; JSON that does not parse names the line, column and the path
    of the value it stopped in (a file cut short stops inside the last one written)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ArtifactError(f"{name}: not UTF-8 text at byte {e.start}") from None
    try:
        return _At(name, "$", json.loads(text))
    except json.JSONDecodeError as e:
        where = _path_at(text, e.pos)
        cut = e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated string")
        reason = "truncated JSON" if cut else f"invalid JSON ({e.msg})"
        raise ArtifactError(
            f"{name}: {where}: {reason} at line {e.lineno} column {e.colno}"
        ) from None


def _path_at(text: str, pos: int) -> str:
    """The JSON path of the value being read at ``pos``: one linear scan of the text before it,
    tracking open objects and lists and the current key or index."""
    stack: list[list[Any]] = []  # [kind, key-or-index, expecting-key]
    i, last_string = 0, ""
    while i < pos:
        ch = text[i]
        if ch == '"':
            end = i + 1
            while end < pos and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            try:
                last_string = json.loads(text[i : end + 1]) if end < pos else text[i + 1 : end]
            except json.JSONDecodeError:
                last_string = text[i + 1 : end]
            if stack and stack[-1][0] == "{" and stack[-1][2]:
                stack[-1][1], stack[-1][2] = last_string, False
            i = end + 1
            continue
        if ch in "{[":
            stack.append([ch, None if ch == "{" else 0, ch == "{"])
        elif ch in "}]" and stack:
            stack.pop()
        elif ch == "," and stack:
            if stack[-1][0] == "[":
                stack[-1][1] += 1
            else:
                stack[-1][2] = True
        i += 1
    path = "$"
    for _, key, _expecting in stack:
        if key is not None:
            path = _path(path, key)
    return path


def _version(doc: _At, kind: str) -> int:
    at = doc.get("metadata", dict).get("dbt_schema_version", str)
    match = _SCHEMA_VERSION.search(at.value)
    if not match or match.group(1) != kind:
        raise at.fail(f"not a dbt {kind} schema version: {at.value!r}")
    version = int(match.group(2))
    if version not in VERSIONS[kind]:
        known = ", ".join(f"v{v}" for v in VERSIONS[kind])
        raise at.fail(f"{kind} v{version} is not supported (this version reads {known})")
    return version


def _when(at: _At, key: str) -> datetime | None:
    """An ISO time (dbt writes UTC with a ``Z``; a naive one is UTC too), or None."""
    text = at.text(key)
    if not text:
        return None
    try:
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise at.get(key, str).fail(f"not an ISO date and time: {text!r}") from None


# -- what the artifacts say


@dataclass(frozen=True)
class DbtColumn:
    name: str
    description: str | None = None
    data_type: str | None = None
    tags: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DbtNode:
    """A model, seed, snapshot, source or test of the manifest (catalog.json merged in)."""

    unique_id: str
    resource_type: str
    package: str
    name: str
    database: str | None = None
    schema: str | None = None
    identifier: str | None = None  # alias of a model, seed or snapshot; a source's identifier
    relation_name: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    config_meta: Mapping[str, Any] = field(default_factory=dict)
    materialization: str | None = None
    raw_code: str | None = None
    compiled_code: str | None = None
    depends_on: tuple[str, ...] = ()
    columns: tuple[DbtColumn, ...] = ()
    attached_node: str | None = None  # tests: the node they test
    column_name: str | None = None  # tests: the column they test
    test_name: str | None = None  # generic tests: unique, not_null, ...; None when singular
    severity: str | None = None  # tests: ERROR or WARN as configured


@dataclass(frozen=True)
class DbtResult:
    """One run_results entry (or a source freshness result, ``unique_id`` the source's)."""

    unique_id: str
    status: str
    invocation_id: str
    evaluated_at: datetime
    message: str | None = None
    failures: int | None = None
    execution_time: float | None = None
    compiled_code: str | None = None


@dataclass(frozen=True)
class DbtArtifacts:
    """One dbt project's artifact set, parsed and checked."""

    target: str
    project: str
    manifest_version: int
    digest: str
    adapter_type: str | None
    invocation_id: str | None
    generated_at: datetime | None
    nodes: Mapping[str, DbtNode]  # by unique_id: models, seeds, snapshots, sources, tests
    results: tuple[DbtResult, ...] = ()  # test results, every run_results file
    freshness: tuple[DbtResult, ...] = ()  # source freshness (sources.json)
    files: tuple[str, ...] = ()

    def tests(self) -> list[DbtNode]:
        return [n for n in self.nodes.values() if n.resource_type == "test"]


def parse_artifacts(target: str, files: Mapping[str, bytes]) -> DbtArtifacts:
    """Every file of one target, checked; raises :class:`ArtifactError` on the first fault."""
    manifest = load_json(MANIFEST, files[MANIFEST])
    version = _version(manifest, "manifest")
    meta = manifest.get("metadata", dict)
    nodes = dict(_manifest_nodes(manifest))
    if CATALOG in files:
        nodes = _with_catalog(nodes, load_json(CATALOG, files[CATALOG]))
    project = meta.text("project_name") or _root_package(nodes.values()) or target
    results: list[DbtResult] = []
    for name in sorted(n for n in files if RUN_RESULTS.fullmatch(n)):
        results.extend(_run_results(load_json(name, files[name])))
    freshness = _freshness(load_json(SOURCES, files[SOURCES])) if SOURCES in files else []
    return DbtArtifacts(
        target=target,
        project=project,
        manifest_version=version,
        digest=digest(files),
        adapter_type=meta.text("adapter_type"),
        invocation_id=meta.text("invocation_id"),
        generated_at=_when(meta, "generated_at"),
        nodes=nodes,
        results=tuple(r for r in results if _kind(nodes, r.unique_id) == "test"),
        freshness=tuple(r for r in freshness if _kind(nodes, r.unique_id) == "source"),
        files=tuple(sorted(files)),
    )


def _kind(nodes: Mapping[str, DbtNode], unique_id: str) -> str | None:
    node = nodes.get(unique_id)
    return node.resource_type if node else None


def _root_package(nodes: Iterable[DbtNode]) -> str | None:
    packages = [n.package for n in nodes if n.resource_type in RELATION_TYPES]
    return max(set(packages), key=packages.count) if packages else None


def _manifest_nodes(manifest: _At) -> Iterator[tuple[str, DbtNode]]:
    for unique_id, at in manifest.get("nodes", dict).items():
        kind = at.required_text("resource_type")
        if kind in (*RELATION_TYPES, "test"):
            yield unique_id, _node(unique_id, at, kind)
    for unique_id, at in manifest.get("sources", dict).items():
        yield unique_id, _node(unique_id, at, "source")


def _node(unique_id: str, at: _At, kind: str) -> DbtNode:
    config = at.get("config", dict, {})
    test_metadata = at.get("test_metadata", dict, {})
    columns = tuple(
        DbtColumn(
            name=c.text("name") or name,
            description=c.text("description") or None,
            data_type=c.text("data_type"),
            tags=c.strings("tags"),
            meta=c.get("meta", dict, {}).value,
        )
        for name, c in at.get("columns", dict, {}).items()
    )
    is_relation = kind != "test"
    return DbtNode(
        unique_id=unique_id,
        resource_type=kind,
        package=at.required_text("package_name"),
        name=at.required_text("name"),
        database=at.text("database"),
        schema=at.required_text("schema") if is_relation else at.text("schema"),
        identifier=(at.text("identifier") if kind == "source" else at.text("alias")) or None,
        relation_name=at.text("relation_name"),
        description=at.text("description") or None,
        tags=at.strings("tags"),
        meta=at.get("meta", dict, {}).value,
        config_meta=config.get("meta", dict, {}).value,
        materialization=config.text("materialized") if kind in RELATION_TYPES else None,
        raw_code=at.text("raw_code") or at.text("raw_sql"),
        compiled_code=at.text("compiled_code") or at.text("compiled_sql"),
        depends_on=at.get("depends_on", dict, {}).strings("nodes"),
        columns=columns,
        attached_node=at.text("attached_node"),
        column_name=at.text("column_name")
        or test_metadata.get("kwargs", dict, {}).text("column_name"),
        test_name=test_metadata.text("name"),
        severity=(config.text("severity") or "ERROR").upper() if kind == "test" else None,
    )


def _with_catalog(nodes: dict[str, DbtNode], catalog: _At) -> dict[str, DbtNode]:
    """catalog.json's table and column comments and column types over the manifest's, as
    OpenMetadata reads them (the warehouse's own comments are what readers see)."""
    from dataclasses import replace

    _version(catalog, "catalog")
    out = dict(nodes)
    for section in ("nodes", "sources"):
        for unique_id, at in catalog.get(section, dict, {}).items():
            node = out.get(unique_id)
            if node is None:
                continue
            comment = at.get("metadata", dict, {}).text("comment")
            described = {c.name.lower(): c for c in node.columns}
            merged: list[DbtColumn] = []
            for _, col in sorted(
                at.get("columns", dict, {}).items(),
                key=lambda kv: kv[1].get("index", (int, float), 0).value,
            ):
                name = col.required_text("name")
                known = described.pop(name.lower(), DbtColumn(name))
                merged.append(
                    replace(
                        known,
                        name=known.name if known.name.lower() == name.lower() else name,
                        description=col.text("comment") or known.description,
                        data_type=col.text("type") or known.data_type,
                    )
                )
            merged.extend(described.values())
            out[unique_id] = replace(
                node, description=comment or node.description, columns=tuple(merged)
            )
    return out


def _run_results(doc: _At) -> Iterator[DbtResult]:
    _version(doc, "run-results")
    meta = doc.get("metadata", dict)
    invocation = meta.text("invocation_id") or doc.file
    generated = _generated(meta)
    for at in doc.get("results", list).elements():
        yield DbtResult(
            unique_id=at.required_text("unique_id"),
            status=at.required_text("status"),
            invocation_id=invocation,
            evaluated_at=_completed(at) or generated,
            message=at.text("message"),
            failures=at.get("failures", int, None).value,
            execution_time=at.get("execution_time", (int, float), None).value,
            compiled_code=at.text("compiled_code"),
        )


def _generated(meta: _At) -> datetime:
    meta.required_text("generated_at")
    when = _when(meta, "generated_at")
    assert when is not None
    return when


def _completed(result: _At) -> datetime | None:
    """When the test's execute step completed (``timing``), the best time of its outcome."""
    ends = [
        _when(step, "completed_at")
        for step in result.get("timing", list, []).elements()
        if step.text("name") == "execute"
    ]
    return next((e for e in ends if e), None)


def _freshness(doc: _At) -> Iterator[DbtResult]:
    _version(doc, "sources")
    meta = doc.get("metadata", dict)
    invocation = meta.text("invocation_id") or doc.file
    generated = _generated(meta)
    for at in doc.get("results", list).elements():
        age = at.get("max_loaded_at_time_ago_in_s", (int, float), None).value
        yield DbtResult(
            unique_id=at.required_text("unique_id"),
            status=at.required_text("status"),
            invocation_id=invocation,
            evaluated_at=_when(at, "snapshotted_at") or generated,
            message=at.text("error")
            or (f"max_loaded_at {at.text('max_loaded_at')}, {age:g} s ago" if age else None),
            execution_time=at.get("execution_time", (int, float), None).value,
        )


def read_artifacts(targets: Sequence[str], s3_client: Any = None) -> list[DbtArtifacts]:
    """Every configured target, each read and checked whole before any is applied."""
    return [parse_artifacts(t, read_target(t, s3_client)) for t in targets]
