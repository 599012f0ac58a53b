"""disentangle: learn, measure and explore disentangled latent spaces of instrument sounds.

`import disentangle` stays fast: heavy modules (torch, the models) load only
when a name below is first used, e.g. `disentangle.load_model("gmvae")`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first access)
_LAZY = {
    "load_model": "disentangle.checkpoint",
    "CheckpointError": "disentangle.checkpoint",
    "load_config": "disentangle.configs",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from disentangle.checkpoint import CheckpointError, load_model
    from disentangle.configs import load_config


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip this hook
        return value
    raise AttributeError(f"module 'disentangle' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))


__all__ = ["CheckpointError", "__version__", "load_config", "load_model"]
