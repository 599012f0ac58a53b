"""Benchmarks behind `scripts/bench.py <name>`.

Each benchmark is a module exposing `add_arguments(parser)` (its options) and
`run(args)` (measures, prints a table, returns the figures). `BENCHMARKS`
maps a subcommand to its module path; modules are imported only when their
subcommand runs, so a missing or broken one fails that subcommand alone.
"""
from __future__ import annotations

import importlib
from types import ModuleType

#: subcommand -> module implementing it.
BENCHMARKS: dict[str, str] = {
    "audio": "disentangle.benchmarks.audio",
    "models": "disentangle.benchmarks.models",
    "app": "disentangle.benchmarks.app",
    "robust": "disentangle.benchmarks.robust",
    "browser": "disentangle.benchmarks.browser",
    "judges": "disentangle.benchmarks.judges",
    "nsynth": "disentangle.benchmarks.nsynth",
    "scale": "disentangle.benchmarks.scale",
    "perturb": "disentangle.benchmarks.perturb",
}


class BenchmarkUnavailable(RuntimeError):
    """A registered benchmark whose module cannot be imported."""


def load_benchmark(name: str) -> ModuleType:
    """Import the module of benchmark `name`; BenchmarkUnavailable says why it failed."""
    if name not in BENCHMARKS:
        raise KeyError(f"unknown benchmark {name!r}; available: {sorted(BENCHMARKS)}")
    path = BENCHMARKS[name]
    try:
        module = importlib.import_module(path)
    except ImportError as exc:
        raise BenchmarkUnavailable(f"benchmark {name!r} is unavailable: cannot import {path} "
                                   f"({type(exc).__name__}: {exc})") from exc
    for attr in ("add_arguments", "run"):
        if not callable(getattr(module, attr, None)):
            raise BenchmarkUnavailable(f"benchmark {name!r}: {path} has no {attr}()")
    return module
