"""The profiler: every default metric of a table from one scan, sampled and partition-pruned
where asked, behind a cost guard. Plain Python; the Dagster wiring is in ``defs/profiler``."""
