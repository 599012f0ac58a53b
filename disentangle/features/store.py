"""Row-addressed float32 arrays on disk (`.npy`): written block by block, read by slice.

A corpus of 100,000 items holds ~3 GB of features; none of it needs to sit in
memory at once. `RowWriter` preallocates the file and appends blocks of rows
through a plain file handle (written pages go to the page cache, not to the
process), and `read_rows` returns one slice through a seek and a read. A
memory map (`open_rows`) would do for single rows, but every page it touches
stays in the process's resident set while it is mapped: encoding a whole
corpus through one map shows the whole file as resident.

The files are ordinary `.npy` files (`np.load` reads them). The header is
padded to a fixed 128 bytes, so `RowWriter.close` can rewrite the row count
when fewer rows than the capacity were written (skipped files) and cut the
file to size.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

HEADER_BYTES = 128
DTYPE = np.dtype("<f4")


def npy_header(shape: tuple[int, ...]) -> bytes:
    """A 128-byte `.npy` (version 1.0) header for a C-order little-endian float32 array."""
    dims = tuple(int(s) for s in shape)
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': " + repr(dims) + ", }"
    body = text.ljust(HEADER_BYTES - 10 - 1) + "\n"
    if len(body) != HEADER_BYTES - 10:
        raise ValueError(f"shape {shape} does not fit a {HEADER_BYTES}-byte header")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body.encode("latin1")


class RowWriter:
    """Write up to `capacity` rows of shape `row_shape` into a `.npy` file at `path`.

    `write(block)` appends (B, *row_shape) rows; `close()` fixes the header
    to the rows written and truncates the rest. Peak memory: one block.
    """

    def __init__(self, path: str | Path, row_shape: tuple[int, ...], capacity: int):
        self.path = Path(path)
        self.row_shape = tuple(int(s) for s in row_shape)
        self.row_bytes = int(np.prod(self.row_shape)) * DTYPE.itemsize
        self.capacity = int(capacity)
        self.rows = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "wb")  # noqa: SIM115 (held across write() calls; closed by close/abort)
        self._f.write(npy_header((self.capacity, *self.row_shape)))
        self._f.truncate(HEADER_BYTES + self.capacity * self.row_bytes)  # sparse: no bytes written yet

    def write(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=DTYPE)
        if block.shape[1:] != self.row_shape:
            raise ValueError(f"rows of shape {block.shape[1:]}, expected {self.row_shape}")
        if self.rows + len(block) > self.capacity:
            raise ValueError(f"more than {self.capacity} rows written to {self.path}")
        self._f.seek(HEADER_BYTES + self.rows * self.row_bytes)
        self._f.write(block.tobytes())
        self.rows += len(block)

    def close(self) -> Path:
        """Finish the file: header and size of the rows written. Returns the path."""
        if self._f.closed:
            return self.path
        self._f.seek(0)
        self._f.write(npy_header((self.rows, *self.row_shape)))
        self._f.truncate(HEADER_BYTES + self.rows * self.row_bytes)
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        return self.path

    def abort(self) -> None:
        """Close and delete the file (a failed run leaves nothing behind)."""
        self._f.close()
        self.path.unlink(missing_ok=True)


def npy_shape(path: str | Path) -> tuple[tuple[int, ...], int]:
    """(shape, data offset in bytes) of a float32 C-order `.npy` file. ValueError otherwise."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        if fortran or np.dtype(dtype) != DTYPE:
            raise ValueError(f"{path}: expected C-order little-endian float32, got {dtype}")
        return tuple(shape), f.tell()


def read_rows(path: str | Path, start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) of a float32 `.npy` file as a new (stop - start, ...) array."""
    shape, offset = npy_shape(path)
    stop = min(int(stop), shape[0])
    start = max(0, min(int(start), stop))
    per_row = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    with open(path, "rb") as f:
        f.seek(offset + start * per_row * DTYPE.itemsize)
        data = np.fromfile(f, dtype=DTYPE, count=(stop - start) * per_row)
    return data.reshape((stop - start, *shape[1:]))


def open_rows(path: str | Path) -> np.ndarray:
    """The whole array as a copy-on-write memory map (writable, never written back)."""
    return np.load(path, mmap_mode="c", allow_pickle=False)
