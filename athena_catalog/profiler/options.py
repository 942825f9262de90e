"""The profiler's options, named as OpenMetadata's profiler workflow names them (snake case).

Plain pydantic models, so the core is usable without Dagster: the ``profile_tables`` job's run
config carries the same fields and is validated by :func:`parse_options`, which names the
field that is wrong (``table_config[1].profile_query: ...``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from athena_catalog.engines.read_only import marked_select
from athena_catalog.engines.records import DEFAULT_CATALOG, EngineError, Table
from athena_catalog.filters import FilterPattern, InvalidFilterError
from athena_catalog.names import split_fqn, table_fqn

GIB = 1024**3
DEFAULT_MAX_BYTES_PER_TABLE = 10 * GIB


class ProfilerOptionsError(ValueError):
    """Options that cannot be used; the message names each wrong field and why."""


class ProfileSampleType(StrEnum):
    PERCENTAGE = "PERCENTAGE"
    ROWS = "ROWS"


class SamplingMethodType(StrEnum):
    BERNOULLI = "BERNOULLI"  # every row kept with the probability: Athena still reads all files
    SYSTEM = "SYSTEM"  # whole splits kept or dropped: fewer bytes read, coarser sample


class PartitionIntervalType(StrEnum):
    TIME_UNIT = "TIME-UNIT"
    INTEGER_RANGE = "INTEGER-RANGE"
    COLUMN_VALUE = "COLUMN-VALUE"


class PartitionIntervalUnit(StrEnum):
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"
    YEAR = "YEAR"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FilterPatternOption(_Strict):
    includes: list[str] = Field(default=[], description="Regular expressions; keep matches.")
    excludes: list[str] = Field(default=[], description="Regular expressions; drop matches.")

    def compile(self, option: str) -> FilterPattern:
        return FilterPattern.compile(self.includes, self.excludes, option=option)


class PartitionConfig(_Strict):
    """Which partitions a profile reads: a predicate on a partition key, so Athena prunes."""

    enable_partitioning: bool = False
    partition_column_name: str | None = None
    partition_interval_type: PartitionIntervalType | None = None
    partition_interval: int | None = Field(default=None, ge=1)
    partition_interval_unit: PartitionIntervalUnit | None = None
    partition_values: list[str | int | float] | None = None
    partition_integer_range_start: int | None = None
    partition_integer_range_end: int | None = None

    @model_validator(mode="after")
    def _complete(self) -> PartitionConfig:
        if not self.enable_partitioning:
            return self
        missing = []
        if not self.partition_column_name:
            missing.append("partition_column_name")
        if self.partition_interval_type is None:
            missing.append("partition_interval_type")
        kind = self.partition_interval_type
        if kind is PartitionIntervalType.TIME_UNIT:
            missing += [
                name
                for name in ("partition_interval", "partition_interval_unit")
                if getattr(self, name) is None
            ]
        elif kind is PartitionIntervalType.INTEGER_RANGE:
            missing += [
                name
                for name in ("partition_integer_range_start", "partition_integer_range_end")
                if getattr(self, name) is None
            ]
            start, end = self.partition_integer_range_start, self.partition_integer_range_end
            if start is not None and end is not None and start > end:
                raise ValueError(
                    f"partition_integer_range_start ({start}) is above"
                    f" partition_integer_range_end ({end})"
                )
        elif kind is PartitionIntervalType.COLUMN_VALUE and not self.partition_values:
            missing.append("partition_values")
        if missing:
            raise ValueError(
                f"enable_partitioning with partition_interval_type {kind and kind.value}"
                f" needs {', '.join(missing)}"
            )
        return self


class ColumnConfig(_Strict):
    """Columns to profile (names as Athena shows them; struct leaves as ``parent.child``)."""

    include_columns: list[str] = Field(default=[], description="Only these (empty: all).")
    exclude_columns: list[str] = Field(default=[], description="Never these.")

    def keeps(self, column: str) -> bool:
        """A leaf is kept when it, or a struct it sits in, is named (case-insensitive)."""
        lowered = column.lower()

        def named(names: list[str]) -> bool:
            return any(lowered == n.lower() or lowered.startswith(n.lower() + ".") for n in names)

        if self.include_columns and not named(self.include_columns):
            return False
        return not named(self.exclude_columns)


class TableConfig(_Strict):
    """Per-table settings; ``fully_qualified_name`` is ``catalog.database.table`` (quoted
    where a part holds a dot or a quote) or ``database.table`` in AwsDataCatalog."""

    fully_qualified_name: str
    profile_sample: float | None = Field(default=None, gt=0)
    profile_sample_type: ProfileSampleType | None = None
    sampling_method_type: SamplingMethodType | None = None
    profile_query: str | None = None
    partition_config: PartitionConfig | None = None
    column_config: ColumnConfig | None = None

    @field_validator("fully_qualified_name")
    @classmethod
    def _fqn(cls, value: str) -> str:
        try:
            parts = split_fqn(value)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        if len(parts) == 2:
            parts = (DEFAULT_CATALOG, *parts)
        if len(parts) != 3 or not all(parts):
            raise ValueError(
                f"{value!r} is not catalog.database.table (or database.table in AwsDataCatalog)"
            )
        return table_fqn(*parts)

    @field_validator("profile_query")
    @classmethod
    def _one_select(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            marked_select(value)
        except EngineError as exc:
            raise ValueError(f"must be exactly one SELECT: {exc}") from None
        return value.strip().rstrip(";").strip()


class ProfilerOptions(_Strict):
    """OpenMetadata's profiler workflow options, plus the cost guard's byte limit and the
    opt-in metrics (each costs at most one more statement per table, all of them together)."""

    database_filter_pattern: FilterPatternOption = Field(
        default=FilterPatternOption(), description="Filter on Athena data catalog names."
    )
    schema_filter_pattern: FilterPatternOption = Field(
        default=FilterPatternOption(), description="Filter on Glue / Athena database names."
    )
    table_filter_pattern: FilterPatternOption = Field(
        default=FilterPatternOption(), description="Filter on table and view names."
    )
    include_views: bool = Field(default=False, description="Profile views as well as tables.")
    compute_table_metrics: bool = Field(default=True, description="row_count, column_count.")
    compute_column_metrics: bool = Field(default=True, description="The per-column metrics.")
    profile_sample: float | None = Field(
        default=None, gt=0, description="Percent of rows (1-100) or a row count; none: all."
    )
    profile_sample_type: ProfileSampleType = ProfileSampleType.PERCENTAGE
    sampling_method_type: SamplingMethodType = SamplingMethodType.BERNOULLI
    thread_count: int = Field(default=5, ge=1, le=64, description="Tables profiled at once.")
    timeout_seconds: float = Field(
        default=43200, gt=0, description="Per table: its statements are stopped past this."
    )
    max_bytes_per_table: int = Field(
        default=DEFAULT_MAX_BYTES_PER_TABLE,
        ge=0,
        description="Skip a table whose estimated scan is above this (after sample/partition).",
    )
    profile_unknown_size: bool = Field(
        default=False,
        description="Profile a table whose size cannot be estimated (S3 listing denied, a"
        " federated catalog) in full; false: skipped unless a partition filter or a SYSTEM or"
        " ROWS sample bounds its scan.",
    )
    compute_unique_count: bool = Field(
        default=False, description="Opt-in: unique_count and duplicate_count per column."
    )
    compute_exact_distinct_count: bool = Field(
        default=False, description="Opt-in: exact distinct_count instead of approx_distinct."
    )
    compute_histogram: bool = Field(default=False, description="Opt-in: numeric histograms.")
    histogram_bins: int = Field(default=10, ge=2, le=100)
    table_config: list[TableConfig] = Field(default=[])

    @model_validator(mode="after")
    def _consistent(self) -> ProfilerOptions:
        for prefix, sample, kind in [
            ("", self.profile_sample, self.profile_sample_type),
            *(
                (f"table_config[{i}].", c.profile_sample, c.profile_sample_type)
                for i, c in enumerate(self.table_config)
            ),
        ]:
            _check_sample(prefix, sample, kind or self.profile_sample_type)
        seen: dict[str, int] = {}
        for i, config in enumerate(self.table_config):
            if config.fully_qualified_name in seen:
                raise ValueError(
                    f"table_config[{i}].fully_qualified_name: {config.fully_qualified_name}"
                    f" is configured already in table_config[{seen[config.fully_qualified_name]}]"
                )
            seen[config.fully_qualified_name] = i
        for name in ("database_filter_pattern", "schema_filter_pattern", "table_filter_pattern"):
            try:
                getattr(self, name).compile(name)
            except InvalidFilterError as exc:
                raise ValueError(str(exc)) from None
        return self

    @property
    def opt_in(self) -> bool:
        """Whether the table's second (opt-in) statement runs."""
        return (
            self.compute_unique_count
            or self.compute_exact_distinct_count
            or (self.compute_histogram)
        )

    def for_table(self, fqn: str) -> TableConfig | None:
        return next((c for c in self.table_config if c.fully_qualified_name == fqn), None)

    def selects(self, table: Table) -> bool:
        """The filter patterns and ``include_views``, as the metadata crawl applies them."""
        if table.is_view and not self.include_views:
            return False
        return (
            self.database_filter_pattern.compile("database_filter_pattern").keeps(table.catalog)
            and self.schema_filter_pattern.compile("schema_filter_pattern").keeps(table.database)
            and self.table_filter_pattern.compile("table_filter_pattern").keeps(table.name)
        )

    def select_tables(self, tables: Iterable[Table]) -> list[Table]:
        return [t for t in tables if self.selects(t)]


def _check_sample(prefix: str, sample: float | None, kind: ProfileSampleType) -> None:
    if sample is None:
        return
    if kind is ProfileSampleType.PERCENTAGE and sample > 100:
        raise ValueError(f"{prefix}profile_sample: {sample} is a PERCENTAGE above 100")
    if kind is ProfileSampleType.ROWS and sample != int(sample):
        raise ValueError(f"{prefix}profile_sample: {sample} ROWS is not a whole number")


def parse_options(config: Mapping[str, Any] | ProfilerOptions | None = None) -> ProfilerOptions:
    """Validated options; ProfilerOptionsError lists every wrong field by its path."""
    if isinstance(config, ProfilerOptions):
        return config
    try:
        return ProfilerOptions.model_validate(dict(config or {}))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = "".join(
                f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]
            ).lstrip(".")
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where or 'options'}: {message}")
        raise ProfilerOptionsError("profiler options: " + "; ".join(problems)) from None
