"""Lineage accuracy on the hand-checked corpus: precision, recall and F1 at table and column
level and for join keys (over the cases that state them), and the cases that differ.

    python benchmarks/lineage_accuracy.py [--files recall.yaml ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from athena_catalog_tests.lineage_corpus import load_cases, load_schema, score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="+", help="only the cases of these corpus files")
    cases = load_cases(parser.parse_args().files)
    tables, columns, joins = score(cases, load_schema())
    with_joins = sum(c.joins is not None for c in cases)
    print(f"{len(cases)} statements ({with_joins} scored on join keys)\n")
    print("| level | precision | recall | F1 | cases differing |")
    print("|---|---:|---:|---:|---:|")
    levels = (("table", tables), ("column", columns), ("join key", joins))
    for level, s in levels:
        print(f"| {level} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {len(s.misses)} |")
    for level, s in levels:
        if s.misses:
            print(f"\n{level} differences: {', '.join(s.misses)}")


if __name__ == "__main__":
    main()
