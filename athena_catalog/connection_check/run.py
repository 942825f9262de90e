"""Running the steps on the probe of the configured engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from athena_catalog.connection_check.aws_probe import AwsProbe
from athena_catalog.connection_check.diagnose import diagnose, one_line
from athena_catalog.connection_check.local_probe import LocalProbe
from athena_catalog.connection_check.steps import STEPS, CheckResult, Probe, Skipped, Step

if TYPE_CHECKING:
    from athena_catalog.defs.resources import AthenaResource

# The probe of each engine the resource can be configured with; the choice is made from the
# resource's ``engine`` field, as the resource makes its engine, and nowhere else.
PROBES: dict[str, type[Probe]] = {"aws": AwsProbe, "local": LocalProbe}


def run_connection_checks(resource: AthenaResource) -> list[CheckResult]:
    """Run every step in order; raises ConfigError only for an unknown engine."""
    probe = PROBES[resource.engine_kind()](resource)
    try:
        return [_run(step, probe) for step in STEPS]
    finally:
        probe.close()


def _run(step: Step, probe: Probe) -> CheckResult:
    try:
        detail = getattr(probe, step.method)()
    except Skipped as exc:
        return CheckResult(step.name, True, step.mandatory, str(exc), skipped=True)
    except Exception as exc:
        code, fix = diagnose(exc, probe, step.service)
        return CheckResult(step.name, False, step.mandatory, one_line(exc), code, fix)
    return CheckResult(step.name, True, step.mandatory, detail)
