"""Where checkpoints and corpora live: checkout, installed copy, environment overrides."""
from __future__ import annotations

from pathlib import Path

import pytest

from disentangle import paths

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("DISENTANGLE_CHECKPOINTS", "DISENTANGLE_DATA", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_checkout_layout(clean_env):
    assert paths.checkout_root() == ROOT
    assert paths.checkpoints_dir() == ROOT / "checkpoints"
    assert paths.data_root() == ROOT / "data"
    assert paths.app_dir() == ROOT / "app"


def test_environment_overrides(clean_env, tmp_path):
    clean_env.setenv("DISENTANGLE_CHECKPOINTS", str(tmp_path / "ck"))
    clean_env.setenv("DISENTANGLE_DATA", str(tmp_path / "data"))
    assert paths.checkpoints_dir() == tmp_path / "ck"
    assert paths.data_root() == tmp_path / "data"


def test_installed_layout(clean_env, tmp_path):
    """A package folder with no pyproject.toml beside it (site-packages) reads its own copies."""
    site = tmp_path / "site-packages" / "disentangle"
    (site / "_app").mkdir(parents=True)
    (site / "_app" / "main.py").write_text("")
    clean_env.setattr(paths, "PACKAGE", site)
    clean_env.setattr(Path, "home", lambda: tmp_path / "home")
    assert paths.checkout_root() is None
    assert paths.checkpoints_dir() == site / "checkpoints"
    assert paths.data_root() == tmp_path / "home" / ".local" / "share" / "disentangle"
    clean_env.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.data_root() == tmp_path / "xdg" / "disentangle"
    assert paths.app_dir() == site / "_app"
    (site / "_app" / "main.py").unlink()
    assert paths.app_dir() is None


def test_bare_corpus_name_resolves_under_the_data_root(clean_env, tmp_path):
    from disentangle.data.loaders import resolve_corpus_path

    (tmp_path / "mycorpus").mkdir()
    clean_env.setenv("DISENTANGLE_DATA", str(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clean_env.chdir(elsewhere)  # a checkout's ./data (which may hold notes) is not looked at from here
    assert resolve_corpus_path("mycorpus") == tmp_path / "mycorpus"
    with pytest.raises(FileNotFoundError, match="disentangle-dataset --out .*notes"):
        resolve_corpus_path("notes")
