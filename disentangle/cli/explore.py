"""`disentangle-explore`: the Gradio explorer, as `python app/main.py` runs it.

The UI lives in `app/` (the Hugging Face Space runs `python app/main.py`); a
wheel ships a copy of that folder as `disentangle/_app/` (see `setup.py`), so
an installed package serves the same app. This module only finds and runs it.
"""
from __future__ import annotations

import importlib.util
import sys

from disentangle.paths import app_dir


def main(argv: list[str] | None = None) -> int:
    """Run the explorer app's `main(argv)` (options: `disentangle-explore --help`)."""
    folder = app_dir()
    if folder is None:
        print("error: the explorer app (app/main.py) is neither in this checkout nor shipped "
              "with this install; reinstall disentangle from its repository", file=sys.stderr)
        return 2
    spec = importlib.util.spec_from_file_location("disentangle_app_main", folder / "main.py")
    assert spec is not None and spec.loader is not None  # a .py file always has a loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(sys.argv[1:] if argv is None else argv)
    return 0
