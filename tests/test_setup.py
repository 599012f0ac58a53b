"""The wheel ships every file of app/ (setup.py's SHIPPED patterns), so an installed explorer starts.

app/layout.py reads app/bridge.js beside it at import; a wheel that carried
only app/*.py installed an explorer that could not build its page.
"""
from __future__ import annotations

import ast
import fnmatch
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shipped_patterns() -> dict[str, tuple[str, tuple[str, ...]]]:
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name) and target.id == "SHIPPED" and node.value is not None:
                return ast.literal_eval(node.value)
    raise AssertionError("setup.py has no SHIPPED")


def test_every_tracked_app_file_is_shipped():
    patterns = shipped_patterns()["app"][1]
    tracked = subprocess.run(["git", "ls-files", "app"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert tracked, "no tracked files under app/"
    missing = [f for f in tracked if not any(fnmatch.fnmatch(str(Path(f).relative_to('app')), p) for p in patterns)]
    assert not missing, f"app files a wheel would leave out: {missing}"
