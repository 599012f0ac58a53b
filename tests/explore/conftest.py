"""Fixtures for explorer tests (defined in conftest_explore.py, shared with tests/app)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest_explore import explorer, world  # noqa: F401
