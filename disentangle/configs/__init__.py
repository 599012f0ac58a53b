"""Run configs: YAML files that map onto typed dataclasses.

A run config has exactly four top-level keys::

    model: gmvae                 # a name in disentangle.models.REGISTRY
    model_config: {...}          # fields of that model's config dataclass
    features: {...}              # fields of FeatureConfig
    train: {...}                 # fields of TrainConfig

`load_config("gmvae")` reads the YAML shipped in this folder;
`load_config("path/to/run.yaml")` reads any file. Omitted fields keep their
dataclass defaults; an unknown key is an error naming the key and the file.
Single values are overridden with dotted assignments
(`overrides=["train.epochs=3", "model_config.label_fraction=0.5"]`), the
values parsed as YAML.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from disentangle.features.config import FeatureConfig
from disentangle.models.base import REGISTRY, ModelConfig
from disentangle.training.config import TrainConfig

#: Folder of the shipped YAML configs.
CONFIG_DIR = Path(__file__).resolve().parent
SECTIONS = ("model", "model_config", "features", "train")


class ConfigError(ValueError):
    """A run config that cannot be used; the message names the file and key."""


@dataclass
class RunConfig:
    """Everything a training run needs besides the data."""

    model: str
    model_config: ModelConfig
    features: FeatureConfig
    train: TrainConfig

    def to_dict(self) -> dict:
        """Plain Python types only (lists, not tuples): YAML- and checkpoint-safe."""
        return {
            "model": self.model,
            "model_config": to_plain(self.model_config),
            "features": to_plain(self.features),
            "train": to_plain(self.train),
        }


def available_configs() -> list[str]:
    """Names of the YAML configs shipped in `disentangle/configs/`."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_config(name_or_path: str | Path, overrides: Iterable[str] = ()) -> RunConfig:
    """Read a run config by shipped name or path, then apply dotted overrides.

    Raises `ConfigError` for a missing file, bad YAML, an unknown section or
    field (naming it and the file), an unknown model name, or a value of the
    wrong type.
    """
    import yaml

    path = resolve_config_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a run config must be a mapping with keys {list(SECTIONS)}")
    for spec in overrides:
        apply_override(data, spec, where=str(path))
    return config_from_dict(data, where=str(path))


def resolve_config_path(name_or_path: str | Path) -> Path:
    """A path as given if it exists, else `disentangle/configs/<name>.yaml`."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = CONFIG_DIR / f"{Path(str(name_or_path)).stem}.yaml"
    if path.suffix in ("", ".yaml", ".yml") and "/" not in str(name_or_path) and shipped.is_file():
        return shipped
    raise ConfigError(f"{name_or_path}: no such config file, and not one of the shipped "
                      f"configs {available_configs()}")


def config_from_dict(data: dict, where: str = "<dict>") -> RunConfig:
    """Build a `RunConfig` from the four-section mapping (see module docstring)."""
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{where}: unknown top-level key {unknown[0]!r} "
                          f"(allowed: {', '.join(SECTIONS)})")
    if "model" not in data:
        raise ConfigError(f"{where}: missing key 'model' (one of {sorted(registry())})")
    name = str(data["model"])
    models = registry()
    if name not in models:
        raise ConfigError(f"{where}: unknown model {name!r}; registered models: {sorted(models)}")
    for section in ("model_config", "features", "train"):
        if data.get(section) is not None and not isinstance(data[section], dict):
            raise ConfigError(f"{where}: '{section}' must be a mapping, got {data[section]!r}")
    return RunConfig(
        model=name,
        model_config=build_dataclass(models[name].config_class, data.get("model_config") or {},
                                     f"{where}: model_config"),
        features=build_dataclass(FeatureConfig, data.get("features") or {}, f"{where}: features"),
        train=build_dataclass(TrainConfig, data.get("train") or {}, f"{where}: train"),
    )


def registry() -> dict:
    """The model registry, after importing the model modules that fill it."""
    import disentangle.models  # noqa: F401  (registers the shipped models)

    return REGISTRY


def apply_override(data: dict, spec: str, where: str = "<overrides>") -> None:
    """Apply one `section.field=value` (or `model=name`) assignment in place.

    The value is parsed as YAML, so `3`, `0.5`, `true`, `null` and `[a, b]`
    become int, float, bool, None and list.
    """
    import yaml

    if "=" not in spec:
        raise ConfigError(f"{where}: override {spec!r} is not of the form key=value")
    key, raw = spec.split("=", 1)
    key = key.strip()
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    parts = key.split(".")
    if parts[0] not in SECTIONS:
        raise ConfigError(f"{where}: override {spec!r}: unknown section {parts[0]!r} "
                          f"(allowed: {', '.join(SECTIONS)})")
    if len(parts) == 1:
        data[key] = value
        return
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"{where}: override {spec!r}: {part!r} is not a mapping")
        node = child
    node[parts[-1]] = value


def build_dataclass(cls: type, values: dict, where: str) -> Any:
    """Instantiate dataclass `cls` from `values`, checking names and types.

    Nested dataclass fields are built from nested mappings; lists become
    tuples where the field is a tuple; ints become floats where it is a float.
    """
    names = {f.name: f for f in fields(cls) if f.init}
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} for {cls.__name__} "
                          f"(known: {', '.join(sorted(names))})")
    hints = typing.get_type_hints(cls)
    kwargs = {k: _coerce(v, hints.get(k, Any), f"{where}.{k}") for k, v in values.items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Fit a YAML value to a field's type hint, or raise `ConfigError`."""
    if hint is Any:
        return value
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: bad value {value!r}")
    if origin is typing.Literal:
        if value not in typing.get_args(hint):
            raise ConfigError(f"{where}: {value!r} is not one of {list(typing.get_args(hint))}")
        return value
    if is_dataclass(hint) and isinstance(hint, type):
        if isinstance(value, hint):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping for {hint.__name__}, got {value!r}")
        return build_dataclass(hint, value, where)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        item = args[0] if len(args) == 1 or (origin is tuple and Ellipsis in typing.get_args(hint)) else Any
        out = [_coerce(v, item, where) for v in value]
        return tuple(out) if origin is tuple else out
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if hint is float:
        if isinstance(value, str):  # YAML 1.1 reads "1e-4" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not (isinstance(value, int) or
                                           (isinstance(value, float) and value.is_integer())):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return int(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return str(value)
    return value


def to_plain(obj: Any) -> Any:
    """Dataclasses -> dicts, tuples -> lists, scalar subclasses -> builtins, recursively.

    Tensors are kept as they are.
    """
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    # Subclasses (numpy scalars, torch's TorchVersion) would need unsafe
    # unpickling in a weights_only checkpoint: store the builtin value.
    if isinstance(obj, bool) or obj is None:
        return obj
    for kind in (str, int, float):
        if isinstance(obj, kind):
            return kind(obj)
    if hasattr(obj, "item") and getattr(obj, "shape", None) == ():
        return obj.item()
    return obj


__all__ = [
    "CONFIG_DIR",
    "ConfigError",
    "RunConfig",
    "apply_override",
    "available_configs",
    "build_dataclass",
    "config_from_dict",
    "load_config",
    "to_plain",
]
