"""The ``aws`` engine: Glue, Athena, the Resource Groups Tagging API and Lake Formation."""

from athena_catalog.engines.aws.engine import AwsEngine
from athena_catalog.engines.aws.glue_mapping import glue_shape, table_from_arn, table_from_glue
from athena_catalog.engines.aws.settings import AwsSettings

__all__ = ["AwsEngine", "AwsSettings", "glue_shape", "table_from_arn", "table_from_glue"]
