"""The repository itself: every tracked file fits a plain git push to Hugging Face (<= 10 MiB)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 10 * 2**20  # Hugging Face refuses plain (non-LFS) pushes of larger files

def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True)
    return [name for name in out.stdout.decode().split("\0") if name]


def test_no_tracked_file_over_10_mib():
    sizes = {}
    for name in tracked_files():
        path = ROOT / name
        if path.is_symlink() or not path.is_file():  # deleted in the work tree, or a link
            continue
        sizes[name] = os.stat(path).st_size
    too_big = {n: s for n, s in sizes.items() if s > LIMIT}
    assert not too_big, f"files over 10 MiB (Hugging Face refuses them without LFS): {too_big}"
