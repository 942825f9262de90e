"""The connector's Test Connection as a Dagster job: one step per permission it needs."""

import dagster as dg

from athena_catalog.connection_check import format_report, run_connection_checks
from athena_catalog.defs.resources import AthenaResource


@dg.op(
    description="Checks credentials, catalog listings, work groups, history and SELECT 1.",
    out=dg.Out(dg.Nothing),
)
def check_connection(context: dg.OpExecutionContext, athena: AthenaResource) -> dg.Output:
    results = run_connection_checks(athena)
    report = format_report(results)
    context.log.info("\n" + report)
    metadata: dict[str, dg.MetadataValue] = {
        "report": dg.MetadataValue.md(f"```\n{report}\n```"),
        **{
            status.lower(): dg.MetadataValue.int(sum(r.status == status for r in results))
            for status in ("PASS", "FAIL", "SKIP")
        },
    }
    failed = [r.name for r in results if r.mandatory and not r.ok]
    if failed:
        raise dg.Failure(
            description="Mandatory connection checks failed: " + ", ".join(failed),
            metadata=metadata,
        )
    return dg.Output(None, metadata=metadata)


@dg.job(description="The connector's 'Test Connection': one step per permission it needs.")
def test_connection() -> None:
    check_connection()
