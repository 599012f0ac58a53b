"""The console scripts: each entry point in pyproject.toml names a `main` that exists."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def test_every_command_is_declared():
    assert set(SCRIPTS) == {"disentangle-explore", "disentangle-train", "disentangle-evaluate",
                            "disentangle-dataset", "disentangle-bench", "disentangle-extract"}


@pytest.mark.parametrize("command", sorted(SCRIPTS))
def test_entry_point_is_a_main_function(command):
    module, func = SCRIPTS[command].split(":")
    assert callable(getattr(importlib.import_module(module), func))


@pytest.mark.parametrize("script,module", [("train", "train"), ("evaluate", "evaluate"),
                                           ("make_dataset", "dataset"), ("bench", "bench"),
                                           ("extract", "extract")])
def test_scripts_call_the_package_commands(script, module):
    """scripts/NAME.py runs from a checkout without installing and calls the same main."""
    text = (ROOT / "scripts" / f"{script}.py").read_text()
    assert f"from disentangle.cli.{module} import main" in text


def test_explore_help_from_the_package():
    out = subprocess.run([sys.executable, "-c", "import sys; from disentangle.cli.explore import main; "
                          "sys.exit(main(['--help']))"], capture_output=True, text=True, timeout=180,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "--checkpoint" in out.stdout and "DISENTANGLE_DATA" in out.stdout


# A repeated list option must add to, not replace, the earlier ones: with
# argparse's default "store" action `--set a=1 --set b=2` silently dropped
# a=1 (a session-17 training ran at the config's sigma2 that way).
@pytest.mark.parametrize("module, base, option, first, second, attr", [
    ("train", ["--config", "vae-cpu", "--data", "d", "--out", "o"], "--set", "train.epochs=3",
     "train.seed=1", "overrides"),
    ("evaluate", ["--checkpoint", "c", "--fit-on", "t"], "--data", "a", "b", "data"),
    ("extract", ["--data", "d"], "--checkpoint", "gmvae", "mdgmvae", "checkpoint"),
    ("dataset", ["--out", "o"], "--instruments", "Violin", "Flute", "instruments"),
])
def test_repeated_list_options_accumulate(module, base, option, first, second, attr):
    parse = importlib.import_module(f"disentangle.cli.{module}").parse_args
    args = parse([*base, option, first, option, second])
    assert getattr(args, attr) == [first, second]
    assert getattr(parse([*base, option, first, second]), attr) == [first, second]
