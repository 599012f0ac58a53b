"""Weights scheduled over epochs (KL warm-up, adversarial weight), always bounded."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinearRamp:
    """0 before `start`, then rises linearly to `value` over `length` epochs and stays there.

    Bounded by construction: the Dal Ri reference let its adversarial weight grow
    without limit, which eventually swamps every other term.
    """

    value: float
    start: int = 0
    length: int = 0

    def __call__(self, epoch: int) -> float:
        if epoch < self.start:
            return 0.0
        if self.length <= 0:
            return float(self.value)
        return float(self.value) * min(1.0, (epoch - self.start + 1) / self.length)
