"""Run by dbt's own interpreter, never imported by athena_catalog: parse the demo project once,
then ``build``, ``source freshness`` and ``docs generate`` on that manifest in one process
(three ``dbt`` commands would parse and start dbt three times over).

Arguments: project dir, target dir (the build's artifacts), scratch dir (freshness and docs,
whose run_results must not replace the build's), log dir. Exit 0 when every command ran (tests
may have failed: run_results.json says which), 2 when one could not run.

dbt is imported in :func:`main` only: the package's own environment has no dbt (it lives in
``.venv-dbt``), and importing this module there must still work (the package's import test).
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    project, target, scratch, logs = argv
    common = ["--project-dir", project, "--profiles-dir", project, "--log-path", logs, "--quiet"]
    parsed = dbtRunner().invoke(["parse", *common, "--target-path", target])
    if not parsed.success:
        print(f"dbt parse failed: {parsed.exception}", file=sys.stderr)
        return 2
    runner = dbtRunner(manifest=parsed.result)
    for command, folder in (
        (["build"], target),
        (["source", "freshness"], scratch),
        (["docs", "generate"], scratch),
    ):
        done = runner.invoke([*command, *common, "--target-path", folder])
        if done.exception is not None:  # failed tests are results, not exceptions
            print(f"dbt {' '.join(command)} failed: {done.exception}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
