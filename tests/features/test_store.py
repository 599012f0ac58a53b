"""Row files: preallocated, appended block by block, cut to the rows written, read by slice."""
from __future__ import annotations

import numpy as np
import pytest

from disentangle.features.store import HEADER_BYTES, RowWriter, npy_shape, open_rows, read_rows


def test_rows_written_in_blocks_read_back_by_slice(tmp_path):
    path = tmp_path / "x.npy"
    data = np.random.default_rng(0).normal(size=(7, 3, 2)).astype(np.float32)
    writer = RowWriter(path, (3, 2), capacity=10)  # 3 rows never come (skipped files)
    writer.write(data[:4])
    writer.write(data[4:])
    with pytest.raises(ValueError, match="rows of shape"):
        writer.write(np.zeros((1, 2, 3), np.float32))
    writer.close()
    assert path.stat().st_size == HEADER_BYTES + data.nbytes  # cut to what was written
    np.testing.assert_array_equal(np.load(path), data)  # an ordinary .npy
    assert npy_shape(path) == ((7, 3, 2), HEADER_BYTES)
    np.testing.assert_array_equal(read_rows(path, 2, 5), data[2:5])
    np.testing.assert_array_equal(read_rows(path, 6, 99), data[6:])
    mm = open_rows(path)
    mm[0] = 0.0  # copy-on-write: the file keeps its values
    np.testing.assert_array_equal(np.load(path)[0], data[0])


def test_aborted_writer_leaves_nothing(tmp_path):
    writer = RowWriter(tmp_path / "y.npy", (2,), capacity=3)
    writer.write(np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match="more than 3"):
        writer.write(np.ones((1, 2), np.float32))
    writer.abort()
    assert not (tmp_path / "y.npy").exists()
