"""The one atomic-write helper: readers never see half a file, and leftovers of a
killed writer are cleaned up."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

from disentangle.atomic import atomic_write, remove_stale_temps, save_npy, write_text


def temps(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_killed_write_leaves_the_old_file_and_a_temp_that_is_then_removed(tmp_path, kill_mid_write):
    target = tmp_path / "last.pt"
    target.write_bytes(b"complete")
    kill_mid_write(target)
    assert target.read_bytes() == b"complete"
    assert len(temps(tmp_path)) == 1 and temps(tmp_path)[0].startswith(".last.pt.")
    left = temps(tmp_path)
    assert [p.name for p in remove_stale_temps(tmp_path)] == left
    assert temps(tmp_path) == []


def test_remove_stale_temps_by_name_and_age(tmp_path):
    mine, other = tmp_path / ".run.pt.abc.tmp", tmp_path / ".other.pt.def.tmp"
    for p in (mine, other):
        p.write_bytes(b"")
    assert remove_stale_temps(tmp_path, "run.pt") == [mine]
    assert other.exists()
    assert remove_stale_temps(tmp_path, older_than_s=3600) == []  # may be another writer's
    old = time.time() - 7200
    os.utime(other, (old, old))
    assert remove_stale_temps(tmp_path, older_than_s=3600) == [other]
    assert remove_stale_temps(tmp_path / "missing") == []


def test_helpers_write_exactly_the_named_file(tmp_path):
    save_npy(tmp_path / "a.npy", np.arange(3))
    write_text(tmp_path / "b.json", "{}")
    assert np.load(tmp_path / "a.npy").tolist() == [0, 1, 2]
    assert (tmp_path / "b.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "b.json"]


def test_a_failed_write_removes_its_temp(tmp_path):
    def failing(tmp):
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(tmp_path / "x.bin", failing)
    assert list(tmp_path.iterdir()) == []
