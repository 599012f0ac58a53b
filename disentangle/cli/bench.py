"""Benchmarks: `disentangle-bench {audio,models,app} [options]` (or `python scripts/bench.py`).

A thin dispatcher: each subcommand's options and measurements live in
`disentangle/benchmarks/<name>.py` (see `disentangle.benchmarks.BENCHMARKS`).
Only the chosen subcommand's module is imported.
"""
from __future__ import annotations

import argparse
import sys

from disentangle.benchmarks import BENCHMARKS, BenchmarkUnavailable, load_benchmark


def run(argv: list[str] | None = None) -> object:
    """Parse `argv`, run the chosen benchmark and return its result."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description="disentangle benchmarks")
    sub = parser.add_subparsers(dest="benchmark", metavar="{" + ",".join(BENCHMARKS) + "}")
    sub.required = True
    # Importing every module to build its options would make one broken
    # benchmark break all: only the requested one gets its full parser.
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name in BENCHMARKS:
        p = sub.add_parser(name, help=f"{name} benchmark")
        if name == chosen:
            try:
                module = load_benchmark(name)
            except BenchmarkUnavailable as exc:
                parser.exit(2, f"error: {exc}\n")
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
    args = parser.parse_args(argv)
    return args._run(args)


def main(argv: list[str] | None = None) -> int:
    """The command line: run a benchmark (it prints and writes its own figures); exit status 0."""
    run(argv)
    return 0


__all__ = ["main", "run"]
