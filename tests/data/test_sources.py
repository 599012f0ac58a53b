"""Sample sources: names, lookup, the Debian packages the project installs."""
from __future__ import annotations

from pathlib import Path

import pytest

from disentangle.data.sources import (
    DEFAULT_SOURCES,
    HOLDOUT_SOURCES,
    SOURCES,
    TRAIN_SOURCES,
    debian_packages,
    locate_sources,
    source_name,
)

ROOT = Path(__file__).resolve().parents[2]


def test_default_mix_holds_out_a_source_it_does_not_train_on():
    assert set(HOLDOUT_SOURCES) <= set(DEFAULT_SOURCES) and not set(HOLDOUT_SOURCES) & set(TRAIN_SOURCES)
    assert len(TRAIN_SOURCES) >= 3 and all(n in SOURCES for n in DEFAULT_SOURCES)


def test_every_default_package_is_installed_by_the_project():
    """Makefile `sources` asks the library; a Space reads packages.txt, so it must list them too."""
    listed = set((ROOT / "packages.txt").read_text().split())
    assert set(debian_packages()) <= listed
    assert "debian_packages" in (ROOT / "Makefile").read_text()


def test_paths_are_sources_named_by_their_stem(tmp_path):
    font = tmp_path / "My Bank (v2).sf2"
    font.write_bytes(b"x")
    found, missing = locate_sources([str(font), "timgm6mb"])
    assert [s.name for s in found] == ["my-bank-v2", "timgm6mb"] and not missing
    assert source_name(Path("A.sf3")) == "a"
    with pytest.raises(ValueError, match="named twice"):
        locate_sources(["timgm6mb", "timgm6mb"])
    with pytest.raises(ValueError, match="unknown sample source 'nope'"):
        locate_sources(["nope"])


def test_a_link_to_another_bank_is_not_that_bank(tmp_path, monkeypatch):
    """Debian links sf3/MuseScore_General.sf3 to the Lite file when only Lite is installed."""
    from disentangle.data import sources

    lite = tmp_path / "Lite.sf3"
    lite.write_bytes(b"x")
    (tmp_path / "Big.sf3").symlink_to(lite)
    monkeypatch.setitem(sources.SOURCES, "big", sources.SampleSource("big", "Big.sf3", (str(tmp_path),), "big-pkg", ""))
    monkeypatch.setitem(sources.SOURCES, "lite", sources.SampleSource("lite", "Lite.sf3", (str(tmp_path),), "lite-pkg", ""))
    found, missing = locate_sources(["big", "lite"])
    assert [s.name for s in found] == ["lite"]
    assert "link to Lite.sf3" in missing["big"] and "big-pkg" in missing["big"]
