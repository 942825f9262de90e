"""The ``table_profiles`` run config: the profiler's options (``ProfilerOptions``) as a Dagster
config schema, so the launchpad scaffolds every option with its default and description.

The schema is derived from the pydantic model, field by field, rather than declared twice:
an option the core adds shows in the launchpad without an edit here. Dagster checks the
shape and types; ``parse_options`` then checks the values (bounds, consistency) as the step
starts and names the wrong field.
"""

from __future__ import annotations

import types
from enum import Enum
from functools import cache
from typing import Any, Union, get_args, get_origin

import dagster as dg
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from athena_catalog.profiler.options import ProfilerOptions

# Not an OpenMetadata option: which tables a run profiles (the sensor's runs name them).
TABLES_FIELD = "tables"


@cache
def profiler_config_schema() -> dict[str, dg.Field]:
    """Every ``ProfilerOptions`` field, plus ``tables``."""
    fields = _fields(ProfilerOptions)
    fields[TABLES_FIELD] = dg.Field(
        [str],
        default_value=[],
        description=(
            "Only these tables (catalog.database.table as the store writes them); empty: every"
            " table the filter patterns keep. The profile_after_write sensor fills it."
        ),
    )
    return fields


def split_config(config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The profiler's options and the ``tables`` the run is restricted to."""
    options = dict(config)
    return options, list(options.pop(TABLES_FIELD, []) or [])


def _fields(model: type[BaseModel]) -> dict[str, dg.Field]:
    return {name: _field(info) for name, info in model.model_fields.items()}


def _field(info: FieldInfo) -> dg.Field:
    config_type = _config_type(_unwrap_optional(info.annotation))
    description = info.description
    if info.is_required():
        return dg.Field(config_type, is_required=True, description=description)
    default = info.get_default(call_default_factory=True)
    if default is None:
        return dg.Field(config_type, is_required=False, description=description)
    return dg.Field(config_type, default_value=_plain(default), description=description)


def _unwrap_optional(annotation: Any) -> Any:
    """``X`` of ``X | None``; any other annotation as it is."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _config_type(annotation: Any) -> Any:
    if annotation in (bool, int, float, str):
        return annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return dg.Enum(annotation.__name__, [dg.EnumValue(m.value) for m in annotation])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return dg.Shape(_fields(annotation))
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        return [_config_type(_unwrap_optional(item))]
    # a union of scalars (partition values: text or numbers): the model checks it
    return dg.Any


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, Enum):
        return value.value
    return value
