"""All Dagster wiring, one folder per domain; each folder's ``definitions()`` returns its
assets, checks, jobs, schedules and sensors. Everything outside ``defs/`` is plain Python."""
