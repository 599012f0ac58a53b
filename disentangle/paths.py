"""Where disentangle reads shipped checkpoints and writes corpora, in a checkout or installed.

Two layouts, one set of rules:

- a source checkout (the package folder sits beside `pyproject.toml`, e.g.
  `git clone` or `pip install -e .`): checkpoints are `checkpoints/` and
  corpora `data/` at the repository root;
- an installed copy (`pip install .`, a wheel): the checkpoints ship inside the
  package (`disentangle/checkpoints/`, copied there by `setup.py`) and corpora
  go to the user's data folder, `$XDG_DATA_HOME/disentangle` (default
  `~/.local/share/disentangle`). Nothing is ever written into site-packages.

Two environment variables override the defaults: `DISENTANGLE_CHECKPOINTS`
(a folder of `NAME.pt` files) and `DISENTANGLE_DATA` (the data root; corpus
names such as `notes` are folders under it).
"""
from __future__ import annotations

import os
from pathlib import Path

#: The package folder (`.../disentangle`).
PACKAGE = Path(__file__).resolve().parent


def checkout_root() -> Path | None:
    """The repository root when the package runs from a source checkout, else None."""
    root = PACKAGE.parent
    return root if (root / "pyproject.toml").is_file() else None


def checkpoints_dir() -> Path:
    """The shipped checkpoints: `$DISENTANGLE_CHECKPOINTS`, `<checkout>/checkpoints` or the package's copy."""
    env = os.environ.get("DISENTANGLE_CHECKPOINTS")
    if env:
        return Path(env).expanduser()
    root = checkout_root()
    return root / "checkpoints" if root is not None else PACKAGE / "checkpoints"


def data_root() -> Path:
    """Where corpora live: `$DISENTANGLE_DATA`, `<checkout>/data` or the user's data folder."""
    env = os.environ.get("DISENTANGLE_DATA")
    if env:
        return Path(env).expanduser()
    root = checkout_root()
    if root is not None:
        return root / "data"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share") / "disentangle"


def app_dir() -> Path | None:
    """The Gradio app's folder (`app/main.py`): the checkout's, else the copy shipped in the package."""
    root = checkout_root()
    for folder in ([root / "app"] if root is not None else []) + [PACKAGE / "_app"]:
        if (folder / "main.py").is_file():
            return folder
    return None


__all__ = ["PACKAGE", "app_dir", "checkout_root", "checkpoints_dir", "data_root"]
