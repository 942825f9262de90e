"""All Dagster wiring, one folder per domain; each folder's ``definitions()`` returns its
assets, checks, jobs, schedules and sensors. Everything outside ``defs/`` is plain Python.

Importing the wiring first checks every setting, before any domain reads one: a bad
``ATHENA_CATALOG_*`` value fails the code location load with one message naming each bad
variable and its value (see :mod:`athena_catalog.settings`)."""

from athena_catalog import settings

settings.check_all()
