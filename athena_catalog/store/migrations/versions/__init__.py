"""Alembic revisions of the catalog store, applied in order; never edit a released one."""
