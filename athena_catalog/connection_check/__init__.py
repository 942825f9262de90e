"""Test-connection: one step per permission the catalog needs, each with a plain fix on failure.

Steps, in order: credentials (STS GetCallerIdentity), list data catalogs, list databases, list
tables, read one table's metadata, list work groups, list query executions, run ``SELECT 1``.
Work groups and query executions are optional (only usage needs them). A failing step does not
stop later ones; a step that needs what a failed one would have found is skipped, not failed.

Each engine has its probe (``aws_probe``, ``local_probe``), picked from the resource's
``engine`` field; on AWS each listing step makes one page's call on the engine's own clients, so
a denial names exactly one IAM action, and ``SELECT 1`` goes through the engine (PyAthena).

Command line (``athena-catalog test-connection``): flags win over environment variables.
Flag, then environment variable, then resource field:

* --engine: ATHENA_CATALOG_ENGINE -> engine (aws | local; default local)
* --region: AWS_REGION, AWS_DEFAULT_REGION or the profile -> region_name
* --endpoint-url: AWS_ENDPOINT_URL (every service, STS too) -> endpoint_url (Athena, Glue)
* --sts-endpoint-url: AWS_ENDPOINT_URL_STS -> sts_endpoint_url
* --profile: AWS_PROFILE -> profile_name
* --assume-role-arn: ATHENA_ASSUME_ROLE_ARN -> assume_role_arn
* --assume-role-session-name: ATHENA_ASSUME_ROLE_SESSION_NAME -> assume_role_session_name
* --assume-role-source-identity: ATHENA_ASSUME_ROLE_SOURCE_IDENTITY -> assume_role_source_identity
* --database: ATHENA_CATALOG_DATABASE -> database
* --catalog-id: ATHENA_CATALOG_CATALOG_ID -> catalog_id
* --work-group: ATHENA_CATALOG_WORK_GROUP -> work_group
* --s3-staging-dir: ATHENA_CATALOG_S3_STAGING_DIR -> s3_staging_dir
* --local-home: ATHENA_CATALOG_HOME -> local_home

Variables read by boto3 itself (region, endpoints, profile, AWS_ACCESS_KEY_ID and the rest of the
credential chain) are left to boto3. Exit code: 0 when every mandatory step passed, 1 when one
failed, 2 for a configuration error found before any step (e.g. an unknown engine).
"""

from athena_catalog.connection_check.command import main
from athena_catalog.connection_check.report import exit_code, format_report
from athena_catalog.connection_check.run import run_connection_checks
from athena_catalog.connection_check.steps import CheckResult

__all__ = ["CheckResult", "exit_code", "format_report", "main", "run_connection_checks"]
