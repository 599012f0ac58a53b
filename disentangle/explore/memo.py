"""A small thread-safe least-recently-used memo for shared, user-agnostic results."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

import numpy as np
import torch

V = TypeVar("V")


def nbytes(value: Any) -> int:
    """Bytes held by arrays and tensors in `value` (through tuples, lists, dicts, dataclasses)."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, torch.Tensor):
        return int(value.element_size() * value.nelement())
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return sum(nbytes(v) for v in value)
    if hasattr(value, "__dict__"):
        return sum(nbytes(v) for v in vars(value).values())
    return 0


class LRU(Generic[V]):
    """At most `size` values and, if given, `max_bytes` bytes of arrays (see `nbytes`);
    the least recently used go first. A single value over `max_bytes` is not kept."""

    def __init__(self, size: int, max_bytes: int | None = None, weigh: Callable[[Any], int] = nbytes):
        self.size = int(size)
        self.max_bytes = max_bytes
        self._weigh = weigh
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._bytes: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key: Hashable, value: V) -> None:
        size = self._weigh(value) if self.max_bytes is not None else 0
        with self._lock:
            self._data[key] = value
            self._bytes[key] = size
            self._data.move_to_end(key)
            while self._data and (len(self._data) > self.size
                                  or (self.max_bytes is not None and self.bytes > self.max_bytes)):
                old, _ = self._data.popitem(last=False)
                self._bytes.pop(old, None)

    @property
    def bytes(self) -> int:
        """Bytes held (0 unless `max_bytes` is set)."""
        return sum(self._bytes.values())

    def __len__(self) -> int:
        return len(self._data)
