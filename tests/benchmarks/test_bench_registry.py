"""bench.py dispatch: lazy imports, a broken benchmark fails only its own subcommand."""
from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from disentangle import benchmarks

REPO = Path(__file__).resolve().parents[2]


def test_registry_names_and_lazy_errors(monkeypatch):
    assert {"audio", "models", "app"} <= set(benchmarks.BENCHMARKS)
    monkeypatch.setitem(benchmarks.BENCHMARKS, "ghost", "disentangle.benchmarks.no_such_module")
    with pytest.raises(benchmarks.BenchmarkUnavailable, match="ghost"):
        benchmarks.load_benchmark("ghost")
    with pytest.raises(KeyError, match="available"):
        benchmarks.load_benchmark("nope")
    empty = types.ModuleType("disentangle.benchmarks.empty")
    monkeypatch.setitem(sys.modules, "disentangle.benchmarks.empty", empty)
    monkeypatch.setitem(benchmarks.BENCHMARKS, "empty", "disentangle.benchmarks.empty")
    with pytest.raises(benchmarks.BenchmarkUnavailable, match="add_arguments"):
        benchmarks.load_benchmark("empty")
    audio = benchmarks.load_benchmark("audio")
    assert callable(audio.run) and callable(audio.add_arguments)


def test_command_dispatches_to_the_chosen_module(monkeypatch):
    from disentangle.cli import bench

    fake = types.ModuleType("disentangle.benchmarks.fake")
    fake.add_arguments = lambda p: p.add_argument("--n", type=int, default=1)
    fake.run = lambda args: {"n": args.n}
    monkeypatch.setitem(sys.modules, "disentangle.benchmarks.fake", fake)
    monkeypatch.setitem(benchmarks.BENCHMARKS, "fake", "disentangle.benchmarks.fake")
    # another registered module that does not import must not matter
    monkeypatch.setitem(benchmarks.BENCHMARKS, "ghost", "disentangle.benchmarks.no_such_module")
    assert bench.run(["fake", "--n", "3"]) == {"n": 3}
    assert bench.main(["fake"]) == 0  # the console script's exit status
    with pytest.raises(SystemExit):
        bench.run(["ghost"])


def test_script_help_runs():
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "bench.py"), "audio", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "--gl-iters" in out.stdout
