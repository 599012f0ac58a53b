"""One way to write a file so that no reader sees half of it, and to clean up after a kill.

Every writer in the package goes through `atomic_write`: the bytes go to a temp
file `.<name>.<random>.tmp` beside the target, are fsynced, and the temp file is
renamed over the target (atomic on POSIX). A process killed mid-write (SIGKILL,
power loss) cannot run its cleanup, so its temp file stays behind;
`remove_stale_temps` deletes such leftovers, e.g. when a training run resumes.
"""
from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

#: The suffix of every temp file `atomic_write` makes (the prefix is `.<target name>.`).
TEMP_SUFFIX = ".tmp"


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call `write(tmp_path)` on a temp file beside `path`, then rename it over `path`.

    The old file stays intact if writing fails; the temp file is removed then.
    Returns `path` as a Path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Atomically write `text` (UTF-8) to `path`."""
    def write(tmp: str) -> None:
        Path(tmp).write_text(text, encoding="utf-8")

    return atomic_write(path, write)


def save_npy(path: str | Path, array: np.ndarray) -> Path:
    """Atomically write `array` as a `.npy` file at exactly `path` (no pickles).

    Through a file object: `np.save` given a name not ending in `.npy` adds one.
    """
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.save(f, np.asarray(array), allow_pickle=False)

    return atomic_write(path, write)


def remove_stale_temps(folder: str | Path, name: str | None = None,
                       older_than_s: float = 0.0) -> list[Path]:
    """Delete the temp files `atomic_write` left in `folder`; return what was deleted.

    name: only the temps of that target file (e.g. "gmvae.pt" in a folder other
    runs write to as well); None: every temp of the folder. older_than_s: spare
    temps modified more recently, for folders where another process may be
    writing right now (a shared cache).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    pattern = f".{name}.*{TEMP_SUFFIX}" if name else f".*{TEMP_SUFFIX}"
    now, removed = time.time(), []
    for tmp in folder.glob(pattern):
        try:
            if tmp.is_file() and now - tmp.stat().st_mtime >= older_than_s:
                tmp.unlink()
                removed.append(tmp)
        except FileNotFoundError:  # another process cleaned it first
            continue
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


__all__ = ["TEMP_SUFFIX", "atomic_write", "remove_stale_temps", "save_npy", "write_text"]
