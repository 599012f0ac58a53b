"""Self-describing checkpoints: one file rebuilds a model with everything it needs.

A checkpoint is one dict of plain Python types and tensors, so it loads with
`torch.load(weights_only=True)` (no arbitrary pickles)::

    {"format": "disentangle-checkpoint/1",
     "model": "gmvae", "model_config": {...}, "features": {...},
     "label_maps": {column: [class names]}, "normaliser": {...},
     "state_dict": {...},
     "train_state": {"optimizers", "schedulers", "epoch", "best", "rng",
                     "history", ...} or None (stripped for shipping),
     "history": [per-epoch metrics], "report": {...},
     "meta": {"created", "git_commit", "torch", "corpus", ...},
     "half": [state_dict keys stored as float16]}  # half-precision files only

Half-precision storage (`save_checkpoint(..., half=True)`, `scripts/train.py
--half`) stores the float32 weights as float16, halving the file (Hugging
Face refuses plain pushes of files over 10 MiB); `load_checkpoint` turns the
keys listed under `"half"` back into float32, so a model never sees float16.

`load_model(name_or_path)` is the one door in: a bare name is
`checkpoints/<name>.pt` at the repository root (an installed package ships its
own copy; `$DISENTANGLE_CHECKPOINTS` overrides both, see `disentangle.paths`),
a folder is a run folder (its `best.pt`), anything else a file path.
"""
from __future__ import annotations

import datetime as _dt
import pickle
import subprocess
import warnings
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from disentangle.atomic import atomic_write

if TYPE_CHECKING:  # the models import this module's helpers; annotations only
    from disentangle.models.base import DisentangleModel

FORMAT = "disentangle-checkpoint/1"
#: Keys every checkpoint has.
REQUIRED = ("format", "model", "model_config", "features", "label_maps", "normaliser", "state_dict")


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | Path, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")


def checkpoints_dir() -> Path:
    """Where bare names are looked up: `checkpoints/` in a checkout (see `disentangle.paths`)."""
    from disentangle.paths import checkpoints_dir as where

    return where()


# --- writing ------------------------------------------------------------------
def save_dict(path: str | Path, ckpt: dict, half: bool = False) -> Path:
    """Atomically `torch.save` a checkpoint dict (its weights in float16 if `half`)."""
    if half:
        ckpt = to_half(ckpt)
    return atomic_write(path, lambda tmp: torch.save(ckpt, tmp))


#: float16's largest finite value; a float32 weight beyond it would be stored as inf.
_HALF_MAX = float(torch.finfo(torch.float16).max)


def to_half(ckpt: dict) -> dict:
    """A copy of `ckpt` whose float32 weights are stored as float16, listed under `"half"`.

    Only float32 tensors of `state_dict` change (integer buffers such as
    BatchNorm's counter stay exact); float16 keeps ~3 significant digits.
    Raises `ValueError` naming the
    tensor if a weight does not fit float16's range (|x| > 65504).
    """
    state, half = {}, set(ckpt.get("half") or [])
    for key, value in ckpt["state_dict"].items():
        if isinstance(value, torch.Tensor) and value.dtype == torch.float32:
            big = value.abs().max().item() if value.numel() else 0.0
            if not big <= _HALF_MAX:  # also catches nan
                raise ValueError(f"cannot store weight {key!r} in half precision: its largest "
                                 f"magnitude {big:g} exceeds float16's {_HALF_MAX:g}")
            value = value.to(torch.float16)
            half.add(key)
        state[key] = value
    return {**ckpt, "state_dict": state, "half": sorted(half)}


def _from_half(ckpt: dict) -> dict:
    """Restore float32 for the keys a half-precision checkpoint lists under `"half"`."""
    half = ckpt.get("half") or []
    state = ckpt["state_dict"]
    for key in half:
        if key in state:
            state[key] = state[key].to(torch.float32)
    return ckpt


def checkpoint_dict(model: DisentangleModel, normaliser: Any, train_state: dict | None = None,
                    report: dict | None = None, history: list | None = None,
                    meta: dict | None = None) -> dict:
    """The checkpoint dict of `model` (a `DisentangleModel`), all on the CPU."""
    from disentangle.configs import to_plain

    norm = normaliser.to_dict() if hasattr(normaliser, "to_dict") else dict(normaliser or {})
    state = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}
    full_meta = default_meta()
    full_meta.update(meta or {})
    return {
        "format": FORMAT,
        "model": model.name,
        "model_config": to_plain(model.config),
        "features": to_plain(model.features),
        "label_maps": {str(k): [str(c) for c in v] for k, v in model.label_maps.items()},
        "normaliser": to_plain(norm),
        "state_dict": state,
        "train_state": train_state,
        "history": to_plain(list(history or [])),
        "report": to_plain(dict(report or {})),
        "meta": to_plain(full_meta),
    }


def save_checkpoint(path: str | Path, model: DisentangleModel, normaliser: Any,
                    train_state: dict | None = None, report: dict | None = None,
                    history: list | None = None, meta: dict | None = None,
                    half: bool = False) -> Path:
    """Write `model`'s self-describing checkpoint to `path`, atomically.

    normaliser: a `Normaliser` (or its `to_dict()`); train_state: what
    `--resume` needs (optimizer/scheduler states, epoch, best, RNG states as
    tensors, history) or None; report: evaluation metrics; meta: extra facts
    (corpus name/fingerprint, wall time) merged into the default meta;
    half: store the float32 weights as float16 (see `to_half`).
    """
    return save_dict(path, checkpoint_dict(model, normaliser, train_state, report, history, meta),
                     half=half)


def default_meta() -> dict:
    """Creation time, torch version and the git commit of the code, if known."""
    return {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "torch": str(torch.__version__),
        "git_commit": git_commit(),
    }


def git_commit() -> str | None:
    """The HEAD commit of the repository holding the package, or None."""
    try:
        root = Path(__file__).resolve().parents[1]
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=False)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def strip_training_state(src: str | Path, dst: str | Path | None = None, half: bool = False) -> Path:
    """Drop `train_state` (optimizers, RNG) from a checkpoint for shipping.

    Writes to `dst` (default: over `src`) atomically; history, report and
    meta are kept; `half` stores the weights as float16 (see `to_half`).
    """
    ckpt = load_checkpoint(src)
    ckpt["train_state"] = None
    return save_dict(dst or src, ckpt, half=half)


def update_report(path: str | Path, report: dict, merge: bool = True) -> Path:
    """Store an evaluation report in an existing checkpoint (atomically)."""
    from disentangle.configs import to_plain

    ckpt = load_checkpoint(path)
    base = dict(ckpt.get("report") or {}) if merge else {}
    base.update(to_plain(report))
    ckpt["report"] = base
    return save_dict(path, ckpt, half=bool(ckpt.get("half")))  # a half file stays half


# --- reading ------------------------------------------------------------------
def load_checkpoint(path: str | Path) -> dict:
    """Read and validate a checkpoint dict (tensors on the CPU).

    Raises `CheckpointError` naming the file for: a missing file, a truncated
    or corrupt file, and a foreign file (not a torch file, a pickle that needs
    `weights_only=False`, or a torch file that is not a disentangle checkpoint).
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(path, "checkpoint file not found")
    if path.is_dir():
        raise CheckpointError(path, "is a folder, not a checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(path, "checkpoint file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():  # e.g. "pickle protocol 4": we report our own error
            warnings.simplefilter("ignore")
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if not _looks_like_torch_or_pickle(path):
            raise CheckpointError(path, "not a torch checkpoint file (neither a torch zip archive "
                                        "nor a pickle)") from None
        # weights_only refuses pickles of arbitrary objects; with a plain
        # pickle it also lands here. Neither is something we wrote.
        text = str(exc)
        tail = text.split("WeightsUnpickler error:", 1)[-1]
        first = next((ln.strip() for ln in tail.splitlines() if ln.strip()), type(exc).__name__)
        raise CheckpointError(path, "not a disentangle checkpoint: it holds Python objects that "
                                    f"need weights_only=False to load, which is unsafe ({first})"
                              ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if zipfile.is_zipfile(path):
            problem = f"truncated or corrupt checkpoint file ({msg})"
        else:
            problem = f"truncated, corrupt or not a torch checkpoint file ({msg})"
        raise CheckpointError(path, problem) from None
    except Exception as exc:  # noqa: BLE001 - any other failure of the unpickler is still "unreadable"
        raise CheckpointError(path, f"unreadable checkpoint file ({type(exc).__name__}: {exc})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        kind = type(ckpt).__name__
        found = ckpt.get("format") if isinstance(ckpt, dict) else None
        raise CheckpointError(path, f"not a disentangle checkpoint (a torch file holding a {kind}"
                                    + (f" of format {found!r}" if found else " without "
                                       f"format {FORMAT!r}") + ")")
    missing = [k for k in REQUIRED if k not in ckpt]
    if missing:
        raise CheckpointError(path, f"damaged checkpoint: missing keys {missing}")
    return _from_half(ckpt)


def _looks_like_torch_or_pickle(path: Path) -> bool:
    """A torch zip archive, or a pickle (protocol >= 2 starts with the PROTO opcode)."""
    with open(path, "rb") as f:
        head = f.read(2)
    return zipfile.is_zipfile(path) or (len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5)


def build_model(ckpt: dict, path: str | Path = "<checkpoint>", device: str | torch.device = "cpu"):
    """Rebuild the `DisentangleModel` a checkpoint dict describes, weights loaded.

    Raises `CheckpointError` when the model name is not registered, the stored
    config does not fit the model's config class, or the weights do not match
    the architecture the config builds.
    """
    from disentangle.configs import ConfigError, build_dataclass, registry
    from disentangle.features.config import FeatureConfig

    models = registry()
    name = ckpt["model"]
    if name not in models:
        raise CheckpointError(path, f"unknown model {name!r} (registered: {sorted(models)}); "
                                    "was it saved by a newer version of disentangle?")
    cls = models[name]
    try:
        config = build_dataclass(cls.config_class, dict(ckpt["model_config"]), "model_config")
        features = build_dataclass(FeatureConfig, dict(ckpt["features"]), "features")
    except ConfigError as exc:
        raise CheckpointError(path, f"stored config does not fit model {name!r}: {exc}") from None
    try:
        model = cls(config, features, {k: list(v) for k, v in ckpt["label_maps"].items()})
    except Exception as exc:  # noqa: BLE001 - a constructor refusing a stored config may raise anything
        raise CheckpointError(path, f"cannot build model {name!r} from the stored config "
                                    f"({type(exc).__name__}: {exc})") from None
    try:
        model.load_state_dict(ckpt["state_dict"], strict=True)
    except RuntimeError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        detail = "; ".join(lines[1:4]) if len(lines) > 1 else lines[0] if lines else ""
        raise CheckpointError(path, f"the stored weights do not match the config of model "
                                    f"{name!r}: {detail}") from None
    return model.to(device)


def resolve_checkpoint(name_or_path: str | Path) -> Path:
    """Where `load_model` looks: file, run folder (best.pt) or shipped name."""
    path = Path(name_or_path)
    if path.is_dir():
        for candidate in ("best.pt", "last.pt"):
            if (path / candidate).is_file():
                return path / candidate
        raise CheckpointError(path, "run folder holds neither best.pt nor last.pt")
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    shipped = checkpoints_dir() / f"{name_or_path}.pt"
    if not shipped.exists():
        have = sorted(p.stem for p in checkpoints_dir().glob("*.pt")) if checkpoints_dir().is_dir() else []
        raise CheckpointError(shipped, f"no checkpoint named {str(name_or_path)!r} "
                                       f"(shipped checkpoints: {have or 'none'})")
    return shipped


def load_model(name_or_path: str | Path, device: str | torch.device = "cpu"):
    """Load a trained model ready for inference.

    name_or_path: a bare name (`"gmvae"` -> `checkpoints/gmvae.pt` at the
    repository root), a run folder (its `best.pt`) or a checkpoint file.
    Returns the `DisentangleModel` in eval mode on `device`, with its declared
    checkpoint attributes filled: `normaliser` (a `Normaliser`), `report`
    (dict), `history` (list), `meta` (dict) and `checkpoint_path`.
    """
    path = resolve_checkpoint(name_or_path)
    ckpt = load_checkpoint(path)
    model = build_model(ckpt, path, device)
    model.normaliser = _normaliser_from_dict(ckpt["normaliser"], path)
    model.report = dict(ckpt.get("report") or {})
    model.history = list(ckpt.get("history") or [])
    model.meta = dict(ckpt.get("meta") or {})
    model.checkpoint_path = path.resolve()
    model.eval()
    return model


def _normaliser_from_dict(d: dict, path: Path):
    from disentangle.features.spectrogram import Normaliser

    try:
        return Normaliser.from_dict(dict(d))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(path, f"damaged normaliser settings {d!r} ({type(exc).__name__}: {exc})"
                              ) from None


__all__ = [
    "FORMAT",
    "CheckpointError",
    "atomic_write",
    "build_model",
    "checkpoint_dict",
    "checkpoints_dir",
    "load_checkpoint",
    "load_model",
    "resolve_checkpoint",
    "save_checkpoint",
    "save_dict",
    "strip_training_state",
    "to_half",
    "update_report",
]
