"""The Athena-statement emulator: one Athena statement, parsed with sqlglot's Athena dialect,
dispatched on its expression type to one small handler each, transpiled to DuckDB and run
inside one DuckDB transaction; what DuckDB cannot hold goes to the Glue store.

UNLOAD writes its files under ``home/s3/<bucket>/<prefix>``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from athena_catalog.engines.local.glue_store import GlueStore, GlueTable
from athena_catalog.engines.local.metadata import (
    DIALECT,
    Context,
    duck_name,
    list_tables,
    qualify,
    quote,
    resolve,
)
from athena_catalog.engines.local.scan_estimate import ScanEstimator
from athena_catalog.engines.records import (
    EXTERNAL_TABLE,
    ICEBERG,
    MANAGED_TABLE,
    VIRTUAL_VIEW,
    Database,
    EngineError,
)
from athena_catalog.sql_text import Unload, Unterminated, leading_keyword, parse_unload

# Athena classifies a statement by its leading keyword: CTAS is DDL because it starts CREATE.
_STATEMENT_TYPE_BY_KEYWORD = {
    "CREATE": "DDL",
    "DROP": "DDL",
    "ALTER": "DDL",
    "MSCK": "DDL",
    "SHOW": "UTILITY",
    "DESCRIBE": "UTILITY",
    "DESC": "UTILITY",
    "EXPLAIN": "UTILITY",
}

# Statements that never change table sizes, so cached scan estimates stay valid.
_READ_ONLY_KEYWORDS = {"SELECT", "WITH", "VALUES", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "UNLOAD"}

# Hive STORED AS keywords and SerDe class fragments -> the storage format Glue reports.
_FILE_FORMATS = {"PARQUET": "parquet", "ORC": "orc", "AVRO": "avro", "TEXTFILE": "csv"}
_FILE_FORMATS |= {"JSON": "json", "ION": "ion"}
_SERDE_FORMATS = (("json", "json"), ("csv", "csv"), ("lazysimple", "csv"), ("parquet", "parquet"))
_UNLOAD_FORMATS = {"PARQUET": ("parquet", "parquet"), "JSON": ("json", "json")}
_UNLOAD_FORMATS |= {"TEXTFILE": ("csv", "csv")}


@dataclass
class Outcome:
    columns: tuple[str, ...] = ()
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    scanned_bytes: int = 0


@dataclass(frozen=True)
class _DdlProperties:
    """Everything a CREATE statement says besides its columns, read off sqlglot's tree."""

    comment: str | None = None
    location: str | None = None
    file_format: str | None = None
    serde: str | None = None
    external: bool = False
    partitioned_by: exp.Expr | None = None
    values: dict[str, str] = field(default_factory=dict)  # TBLPROPERTIES / WITH (...)

    @classmethod
    def read(cls, expression: exp.Expr) -> _DdlProperties:
        found: dict[str, Any] = {"values": {}}
        properties = expression.args.get("properties")
        for prop in properties.expressions if properties else []:
            if isinstance(prop, exp.SchemaCommentProperty):
                found["comment"] = prop.this.name
            elif isinstance(prop, exp.LocationProperty):
                found["location"] = prop.this.name
            elif isinstance(prop, exp.FileFormatProperty):
                found["file_format"] = prop.this.name.upper()
            elif isinstance(prop, exp.RowFormatSerdeProperty):
                found["serde"] = prop.this.name
            elif isinstance(prop, exp.ExternalProperty):
                found["external"] = True
            elif isinstance(prop, exp.PartitionedByProperty):
                found["partitioned_by"] = prop.this
            elif type(prop) is exp.Property:  # subclasses are the typed ones above
                value = prop.args["value"]
                found["values"][prop.name.lower()] = (
                    value.name if isinstance(value, exp.Literal) else value.sql(DIALECT)
                )
        return cls(**found)

    @property
    def is_iceberg(self) -> bool:
        return self.values.get("table_type", "").upper() == ICEBERG

    def storage_format(self) -> str | None:
        if self.is_iceberg:
            return "iceberg"
        if self.file_format:
            return _FILE_FORMATS.get(self.file_format, self.file_format.lower())
        serde = (self.serde or "").lower()
        return next((fmt for key, fmt in _SERDE_FORMATS if key in serde), None)


class StatementRunner:
    """Runs statements on the engine's DuckDB connection and Glue store; the engine records
    them, serializes calls and cancels them."""

    def __init__(
        self,
        db: duckdb.DuckDBPyConnection,
        glue: GlueStore,
        s3_root: Path,
        clock: Callable[[], datetime],
    ):
        self._db, self._glue, self.s3_root, self._clock = db, glue, s3_root, clock
        self.scan = ScanEstimator(db, glue)

    @staticmethod
    def statement_type(sql: str) -> str:
        """DDL, DML or UTILITY, by the leading keyword as Athena classifies statements."""
        return _STATEMENT_TYPE_BY_KEYWORD.get(_leading_keyword(sql)[0], "DML")

    def run(self, sql: str, context: Context) -> Outcome:
        """Parse, dispatch to the handler for the statement kind, in one DuckDB transaction."""
        keyword, rest = _leading_keyword(sql)
        if keyword not in _READ_ONLY_KEYWORDS:
            self.scan.clear()
        command = {"UNLOAD": self._unload, "SHOW": self._show, "EXPLAIN": self._explain}
        self._db.begin()
        try:
            if keyword in command:
                outcome = command[keyword](rest, context)
            else:
                outcome = self._dispatch(self._parse(sql), sql, context)
            self._db.commit()
        except BaseException:
            self._db.rollback()
            raise
        return outcome

    @staticmethod
    def _parse(sql: str) -> exp.Expr:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
        if len(statements) != 1:
            raise EngineError("Only one sql statement is allowed", code="INVALID_REQUEST")
        if isinstance(statements[0], exp.Command):
            raise EngineError(f"statement not supported: {statements[0].name}")
        return statements[0]

    def _dispatch(self, expression: exp.Expr, sql: str, context: Context) -> Outcome:
        if isinstance(expression, exp.Query):
            return self._select(expression, context)
        if isinstance(expression, exp.Create):
            kind = (expression.kind or "").upper()
            if kind in ("DATABASE", "SCHEMA"):
                return self._create_database(expression, context)
            if kind == "VIEW":
                return self._create_view(expression, sql, context)
            if expression.expression is not None:
                return self._create_table_as(expression, context)
            return self._create_table(expression, context)
        handlers: dict[type[exp.Expr], Callable[[Any, Context], Outcome]] = {
            exp.Drop: self._drop,
            exp.Alter: self._alter_table,
            exp.Insert: self._insert,
            exp.Merge: self._modify_iceberg,
            exp.Update: self._modify_iceberg,
            exp.Delete: self._modify_iceberg,
            exp.Describe: self._describe,
        }
        handler = handlers.get(type(expression))
        if handler is None:
            raise EngineError(f"statement not supported: {type(expression).__name__}")
        return handler(expression, context)

    # -- statement handlers -----------------------------------------------------------------

    def _select(self, query: exp.Expr, context: Context) -> Outcome:
        query = qualify(query, context)
        scanned = self.scan.scanned(query)
        cursor = self._db.execute(self._duck_sql(query))
        columns = tuple(d[0] for d in cursor.description or ())
        return Outcome(columns, cursor.fetchall(), scanned)

    def _create_database(self, create: exp.Create, context: Context) -> Outcome:
        name = create.this.name
        props = _DdlProperties.read(create)
        exists = "IF NOT EXISTS " if create.args.get("exists") else ""
        self._db.execute(f"CREATE SCHEMA {exists}{duck_name(context.catalog, name)}")
        self._glue.put_database(Database(context.catalog, name, props.comment, props.location))
        return Outcome()

    def _create_table(self, create: exp.Create, context: Context) -> Outcome:
        """Hive DDL: CREATE [EXTERNAL] TABLE (cols) [PARTITIONED BY (cols)] ... TBLPROPERTIES."""
        catalog, database, name = resolve(self._glue, create.this.this, context)
        if create.args.get("exists") and self._glue.table(catalog, database, name):
            return Outcome()
        props = _DdlProperties.read(create)
        if not props.external and not props.is_iceberg:
            raise EngineError("CREATE TABLE without EXTERNAL needs table_type='ICEBERG'")
        columns = list(create.this.expressions)
        partition_keys: list[str] = []
        # Iceberg partitioning is hidden (transforms of data columns): no Glue partition keys.
        if isinstance(props.partitioned_by, exp.Schema) and not props.is_iceberg:
            keys = [c for c in props.partitioned_by.expressions if isinstance(c, exp.ColumnDef)]
            columns += keys
            partition_keys = [k.name for k in keys]
        defs = ", ".join(f"{quote(c.name)} {c.args['kind'].sql('duckdb')}" for c in columns)
        self._db.execute(f"CREATE TABLE {duck_name(catalog, database, name)} ({defs})")
        self._comment(catalog, database, name, props.comment, columns)
        parameters = dict(props.values)
        if props.external:
            parameters["EXTERNAL"] = "TRUE"
        self._put_table(
            catalog,
            database,
            name,
            GlueTable(
                ICEBERG if props.is_iceberg else EXTERNAL_TABLE,
                props.location,
                props.storage_format(),
                parameters,
                tuple(partition_keys),
            ),
        )
        return Outcome()

    def _create_table_as(self, create: exp.Create, context: Context) -> Outcome:
        """CTAS: WITH (format, external_location, partitioned_by, table_type ...) AS SELECT."""
        catalog, database, name = resolve(self._glue, create.this, context)
        if create.args.get("exists") and self._glue.table(catalog, database, name):
            return Outcome()
        props = _DdlProperties.read(create)
        query = qualify(create.expression, context)
        scanned = self.scan.scanned(query)
        self._db.execute(
            f"CREATE TABLE {duck_name(catalog, database, name)} AS {self._duck_sql(query)}"
        )
        values = dict(props.values)
        location = values.pop("external_location", None) or props.location
        partition_keys = []
        if isinstance(props.partitioned_by, exp.Array):
            partition_keys = [e.name for e in props.partitioned_by.expressions]
        if props.is_iceberg:
            table_type = ICEBERG
        elif location:
            table_type = EXTERNAL_TABLE
        else:  # Athena writes it under the database location, as a managed table
            table_type = MANAGED_TABLE
            db_location = self._glue.database(catalog, database).location
            location = f"{db_location.rstrip('/')}/{name}/" if db_location else None
        if props.file_format:
            values["format"] = props.file_format.lower()
        glue = GlueTable(
            table_type,
            location,
            props.storage_format() or "parquet",  # Athena's CTAS default
            values,
            () if props.is_iceberg else tuple(partition_keys),
        )
        self._put_table(catalog, database, name, glue)
        return Outcome(scanned_bytes=scanned)

    def _create_view(self, create: exp.Create, sql: str, context: Context) -> Outcome:
        catalog, database, name = resolve(self._glue, create.this, context)
        query = qualify(create.expression, context)
        replace = "OR REPLACE " if create.args.get("replace") else ""
        self._db.execute(
            f"CREATE {replace}VIEW {duck_name(catalog, database, name)} AS {self._duck_sql(query)}"
        )
        view_sql = _text_after_as(sql)
        parameters = {"presto_view": "true", "comment": "Presto View"}
        self._put_table(
            catalog,
            database,
            name,
            GlueTable(VIRTUAL_VIEW, parameters=parameters, view_sql=view_sql),
        )
        return Outcome()

    def _drop(self, drop: exp.Drop, context: Context) -> Outcome:
        kind = (drop.kind or "").upper()
        exists = "IF EXISTS " if drop.args.get("exists") else ""
        if kind in ("DATABASE", "SCHEMA"):
            name = drop.args["tables"][0].name
            cascade = " CASCADE" if drop.args.get("cascade") else ""
            self._db.execute(f"DROP SCHEMA {exists}{duck_name(context.catalog, name)}{cascade}")
            for table in ("tables", "databases"):
                column = "database" if table == "tables" else "name"
                self._glue.conn.execute(
                    f"DELETE FROM {table} WHERE catalog = ? AND {column} = ?",
                    (context.catalog, name),
                )
            return Outcome()
        catalog, database, name = resolve(self._glue, drop.args["tables"][0], context)
        self._db.execute(f"DROP {kind} {exists}{duck_name(catalog, database, name)}")
        self._glue.conn.execute(
            "DELETE FROM tables WHERE catalog = ? AND database = ? AND name = ?",
            (catalog, database, name),
        )
        return Outcome()

    def _alter_table(self, alter: exp.Alter, context: Context) -> Outcome:
        """ALTER TABLE ... ADD COLUMNS (...); Glue lists them before the partition keys."""
        catalog, database, name = resolve(self._glue, alter.this, context)
        actions = alter.args.get("actions") or []
        columns = [c for a in actions if isinstance(a, exp.Schema) for c in a.expressions]
        if not columns or len(columns) != sum(isinstance(c, exp.ColumnDef) for c in columns):
            raise EngineError("only ALTER TABLE ... ADD COLUMNS is supported", code="NOT_SUPPORTED")
        glue = self._glue.table(catalog, database, name)
        if glue is None:
            raise EngineError(f"Table {catalog}.{database}.{name} does not exist")
        target = duck_name(catalog, database, name)
        for column in columns:
            self._db.execute(
                f"ALTER TABLE {target} ADD COLUMN {quote(column.name)}"
                f" {column.args['kind'].sql('duckdb')}"
            )
        self._comment(catalog, database, name, None, columns)
        self._put_table(catalog, database, name, glue)
        return Outcome()

    def _insert(self, insert: exp.Insert, context: Context) -> Outcome:
        """INSERT INTO t SELECT: positional in Glue's column order (partition keys last)."""
        qualify(insert, context)  # in place
        scanned = self.scan.scanned(insert.expression)
        if isinstance(insert.this, exp.Table):
            target = resolve(self._glue, insert.this, context)
            names = self._column_order(*target)
            identifiers = [exp.to_identifier(n, quoted=True) for n in names]
            insert.set("this", exp.Schema(this=insert.this, expressions=identifiers))
        self._db.execute(self._duck_sql(insert))
        return Outcome(scanned_bytes=scanned)

    def _modify_iceberg(self, statement: exp.Expr, context: Context) -> Outcome:
        """MERGE / UPDATE / DELETE: Athena allows them on Iceberg tables only."""
        statement = qualify(statement, context)
        catalog, database, name = resolve(self._glue, statement.this, context)
        glue = self._glue.table(catalog, database, name)
        if glue is None or glue.table_type != ICEBERG:
            raise EngineError(
                f"NOT_SUPPORTED: Modifying Hive table rows is only supported for transactional"
                f" tables ({database}.{name} is not an Iceberg table)",
                code="NOT_SUPPORTED",
            )
        scanned = self.scan.scanned(statement)
        self._db.execute(self._duck_sql(statement))
        self._put_table(catalog, database, name, glue)
        return Outcome(scanned_bytes=scanned)

    def _describe(self, describe: exp.Describe, context: Context) -> Outcome:
        catalog, database, name = resolve(self._glue, describe.this, context)
        tables = [
            t
            for t in list_tables(self._db, self._glue, catalog, database)
            if t.name.lower() == name.lower()
        ]
        if not tables:
            raise EngineError(f"Table {catalog}.{database}.{name} does not exist")
        rows = [(c.name, c.data_type, c.description or "") for c in tables[0].columns]
        return Outcome(("col_name", "data_type", "comment"), rows)

    def _show(self, args: str, context: Context) -> Outcome:
        """SHOW DATABASES|SCHEMAS ['glob'] and SHOW TABLES|VIEWS [IN db] ['glob']."""
        tokens = _tokens(args)
        words = [t.text for t in tokens if t.token_type != sqlglot.TokenType.STRING]
        globs = [t.text for t in tokens if t.token_type == sqlglot.TokenType.STRING]
        what = words[0].upper() if words else ""
        if what in ("DATABASES", "SCHEMAS"):
            column, names = (
                "database_name",
                [d.name for d in self._glue.databases(self._glue.catalog(context.catalog).name)],
            )
        elif what in ("TABLES", "VIEWS"):
            database = words[2] if len(words) > 2 else context.database
            tables = list_tables(self._db, self._glue, context.catalog, database)
            column, names = "tab_name", [t.name for t in tables if what == "TABLES" or t.is_view]
        else:
            raise EngineError(f"SHOW {what} is not supported", code="NOT_SUPPORTED")
        glob = (globs[0] if globs else "*").lower()
        return Outcome((column,), [(n,) for n in names if fnmatch(n.lower(), glob)])

    def _explain(self, args: str, context: Context) -> Outcome:
        query = qualify(self._parse(args), context)
        cursor = self._db.execute(f"EXPLAIN {self._duck_sql(query)}")
        return Outcome(("Query Plan",), [(row[-1],) for row in cursor.fetchall()])

    def _unload(self, args: str, context: Context) -> Outcome:
        """UNLOAD (query) TO 's3://bucket/prefix' WITH (format=...): files under home/s3."""
        unload = _split_parenthesised(args)
        if unload.location is None or not unload.location.startswith("s3://"):
            raise EngineError("UNLOAD needs TO 's3://bucket/prefix'", code="INVALID_REQUEST")
        props = _DdlProperties.read(
            sqlglot.parse_one(f"CREATE TABLE t {unload.with_clause} AS SELECT 1", read=DIALECT)
        )
        fmt = (props.file_format or "PARQUET").upper()
        if fmt not in _UNLOAD_FORMATS:
            raise EngineError(f"UNLOAD format {fmt} is not supported", code="NOT_SUPPORTED")
        duck_format, suffix = _UNLOAD_FORMATS[fmt]
        query = qualify(self._parse(unload.query), context)
        scanned = self.scan.scanned(query)
        directory = self.s3_root / unload.location.removeprefix("s3://")
        directory.mkdir(parents=True, exist_ok=True)
        path = exp.Literal.string(str(directory / f"{uuid.uuid4()}.{suffix}")).sql("duckdb")
        self._db.execute(f"COPY ({self._duck_sql(query)}) TO {path} (FORMAT {duck_format})")
        return Outcome(scanned_bytes=scanned)

    @staticmethod
    def _duck_sql(expression: exp.Expr) -> str:
        """DuckDB SQL; generating in place, so estimate the scan before calling this."""
        return expression.sql("duckdb", copy=False, unsupported_level=ErrorLevel.IGNORE)

    def _put_table(self, catalog: str, database: str, name: str, glue: GlueTable) -> None:
        now = self._clock()
        existing = self._glue.table(catalog, database, name)
        created = existing.created_at if existing and existing.created_at else now
        self._glue.put_table(
            catalog,
            database,
            name,
            GlueTable(
                glue.table_type,
                glue.location,
                glue.storage_format,
                glue.parameters,
                glue.partition_keys,
                glue.view_sql,
                owner=glue.owner,
                created_at=created,
                updated_at=now,
            ),
        )

    def _comment(
        self,
        catalog: str,
        database: str,
        name: str,
        comment: str | None,
        columns: list[exp.ColumnDef],
    ) -> None:
        """Table and column comments live in DuckDB's catalog, where list_tables reads them."""
        target = duck_name(catalog, database, name)
        if comment:
            self._db.execute(f"COMMENT ON TABLE {target} IS {exp.Literal.string(comment).sql()}")
        for column in columns:
            for constraint in column.constraints:
                if isinstance(constraint.kind, exp.CommentColumnConstraint):
                    text = exp.Literal.string(constraint.kind.name).sql("duckdb")
                    self._db.execute(f"COMMENT ON COLUMN {target}.{quote(column.name)} IS {text}")

    def _column_order(self, catalog: str, database: str, name: str) -> list[str]:
        """Column names as Glue orders them: data columns, then partition keys."""
        target = duck_name(catalog, database, name)
        names = [d[0] for d in self._db.execute(f"SELECT * FROM {target} LIMIT 0").description]
        glue = self._glue.table(catalog, database, name)
        keys = [k.lower() for k in glue.partition_keys] if glue else []
        return sorted(names, key=lambda n: keys.index(n.lower()) if n.lower() in keys else -1)


def _tokens(sql: str) -> list[Any]:
    """Athena tokens, without the marker sqlglot puts before Hive DDL."""
    tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(sql)
    return [t for t in tokens if t.token_type != sqlglot.TokenType.HIVE_TOKEN_STREAM]


def _leading_keyword(sql: str) -> tuple[str, str]:
    """The first keyword, upper case, and the text after it (a scan: tokenizing is slow);
    none for a statement the tokenizer will reject with its reason (an open comment)."""
    try:
        keyword, end = leading_keyword(sql)
    except Unterminated:
        return "", ""
    return keyword, sql[end:].strip()


def _text_after_as(sql: str) -> str:
    """The view's query exactly as written: everything after the first top-level AS."""
    for token in _tokens(sql):
        if token.token_type == sqlglot.TokenType.ALIAS:
            return sql[token.end + 1 :].strip().rstrip(";").strip()
    raise EngineError("CREATE VIEW without AS")


def _split_parenthesised(text: str) -> Unload:
    """UNLOAD's ``(query) TO '...' WITH (...)``, split at the parenthesis matching the
    leading one, quotes respected."""
    unload = parse_unload(text)
    if unload is None:
        raise EngineError("UNLOAD needs a parenthesised query", code="INVALID_REQUEST")
    return unload
