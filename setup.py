"""Build hook: a wheel also carries the shipped checkpoints and the explorer app.

Everything else about the package is in pyproject.toml. `checkpoints/` and
`app/` stay at the repository root (the Space, the tests and the docs use them
there); a wheel copies them into the package as `disentangle/checkpoints/` and
`disentangle/_app/`, where `disentangle.paths` finds them once installed.
Editable installs read them in place.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: repository folder -> (folder inside the package, files to ship)
SHIPPED = {
    "checkpoints": ("checkpoints", ("*.pt", "*.report.json", "*.report.md")),
    # bridge.js / early.js: the page scripts layout.py and plotly_route.py read beside them;
    # vendor/: the map's plotly.js bundle with its licence
    "app": ("_app", ("*.py", "*.js", "vendor/*")),
}


class BuildPyWithShipped(build_py):
    """`build_py`, then copy the shipped folders into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for source, (target, patterns) in SHIPPED.items():
            out = Path(self.build_lib) / "disentangle" / target
            out.mkdir(parents=True, exist_ok=True)
            for pattern in patterns:
                for path in sorted((ROOT / source).glob(pattern)):
                    copy = out / path.relative_to(ROOT / source)
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, copy)


setup(cmdclass={"build_py": BuildPyWithShipped})
