"""Test-connection on AWS: each listing step makes one page's call on the engine's own clients,
so a denial names exactly one IAM action; ``SELECT 1`` goes through the engine (PyAthena)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from athena_catalog.aws_session import client_config, sts_client
from athena_catalog.connection_check.steps import (
    CHECK_ATTEMPTS,
    CHECK_CONNECT_TIMEOUT,
    CHECK_RETRY_SECONDS,
    PAGE,
    CheckFailed,
    Probe,
    Skipped,
    pick_database,
    summary,
)

if TYPE_CHECKING:
    import boto3

    from athena_catalog.defs.resources import AthenaResource
    from athena_catalog.engines.aws import AwsEngine


class AwsProbe(Probe):
    """The steps against AWS, sharing one session (one AssumeRole) and one engine."""

    def __init__(self, resource: AthenaResource):
        super().__init__(resource)
        self.session: boto3.Session | None = None
        self.table: str | None = None
        self._aws: AwsEngine | None = None

    @property
    def engine(self) -> AwsEngine:
        if self._aws is None:
            if self.session is None:
                raise Skipped("no AWS session: see the credentials step")
            from athena_catalog.engines.aws import AwsEngine

            settings = replace(
                self.resource.aws_settings(self.session.region_name),
                max_attempts=CHECK_ATTEMPTS,
                retry_max_seconds=CHECK_RETRY_SECONDS,
                connect_timeout=CHECK_CONNECT_TIMEOUT,
            )
            self._aws = self._engine = AwsEngine(self.session, settings)
        return self._aws

    def _glue_catalog(self) -> dict[str, str]:
        catalog_id = self.resource.catalog_id
        return {"CatalogId": catalog_id} if catalog_id else {}

    def credentials(self) -> str:
        self.session = self.resource.boto3_session()
        sts = sts_client(
            self.session,
            self.resource.session_spec(),
            client_config(CHECK_ATTEMPTS, connect_timeout=CHECK_CONNECT_TIMEOUT),
        )
        identity = sts.get_caller_identity()
        return f"{identity['Arn']} in {self.session.region_name}"

    def data_catalogs(self) -> str:
        page = self.engine.athena.list_data_catalogs(MaxResults=PAGE)
        names = [c["CatalogName"] for c in page["DataCatalogsSummary"]]
        return summary(names, "data catalogs")

    def databases(self) -> str:
        paginator = self.engine.glue.get_paginator("get_databases")
        names = [
            db["Name"]
            for page in paginator.paginate(**self._glue_catalog())
            for db in page["DatabaseList"]
        ]
        self.database = pick_database(
            self.database, names, "the Glue Data Catalog (check region_name and catalog_id)"
        )
        return summary(names, "databases") + f"; using {self.database}"

    def tables(self) -> str:
        if not self.database:
            raise Skipped("no database to list: see list databases")
        page = self.engine.glue.get_tables(
            DatabaseName=self.database, MaxResults=PAGE, **self._glue_catalog()
        )
        names = [t["Name"] for t in page["TableList"]]
        self.table = names[0] if names else None
        return summary(names, f"tables in {self.database} (first page)")

    def table_metadata(self) -> str:
        if not (self.database and self.table):
            raise Skipped("no table to read: see list tables")
        table = self.engine.glue.get_table(
            DatabaseName=self.database, Name=self.table, **self._glue_catalog()
        )["Table"]
        columns = (table.get("StorageDescriptor") or {}).get("Columns") or []
        partitions = table.get("PartitionKeys") or []
        return f"{self.database}.{self.table}: {len(columns) + len(partitions)} columns"

    def work_groups(self) -> str:
        names: list[str] = []
        token: dict[str, str] = {}
        while True:  # boto3 has no paginator for ListWorkGroups
            page = self.engine.athena.list_work_groups(MaxResults=50, **token)
            names += [wg["Name"] for wg in page["WorkGroups"]]
            if not page.get("NextToken"):
                break
            token = {"NextToken": page["NextToken"]}
        wanted = self.resource.work_group
        if wanted and wanted not in names:
            raise CheckFailed(
                f"work group {wanted!r} is not among {names}",
                code="WorkGroupNotFound",
                fix="check work_group and region_name, or grant athena:ListWorkGroups on it",
            )
        return summary(names, "work groups")

    def query_executions(self) -> str:
        work_group = self.resource.work_group
        ids = self.engine.athena.list_query_executions(
            MaxResults=PAGE, **({"WorkGroup": work_group} if work_group else {})
        )["QueryExecutionIds"]
        if ids:
            self.engine.athena.batch_get_query_execution(QueryExecutionIds=ids)
        return f"{len(ids)} recent query executions readable"
