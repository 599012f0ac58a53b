"""Fixtures for app tests: reuse the explorer test world, import app/ modules."""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "app"))
sys.path.insert(0, str(HERE.parent / "explore"))

from conftest_explore import explorer, world  # noqa: F401
