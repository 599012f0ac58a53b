"""Run configs: shipped YAMLs, dotted overrides, and clear errors."""
from __future__ import annotations

import pytest
import yaml

from disentangle.configs import ConfigError, RunConfig, available_configs, config_from_dict, load_config
from disentangle.features.config import FeatureConfig
from disentangle.training.config import TrainConfig

from .helpers import TinyConfig, tiny_config_dict


def write(tmp_path, data) -> str:
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_yaml_maps_onto_dataclasses(tmp_path):
    run = load_config(write(tmp_path, tiny_config_dict(epochs=7)))
    assert isinstance(run, RunConfig) and run.model == "tiny_test"
    assert isinstance(run.model_config, TinyConfig) and run.model_config.hidden == 8
    assert isinstance(run.features, FeatureConfig) and run.features.n_mels == 16
    assert isinstance(run.train, TrainConfig) and run.train.epochs == 7
    assert run.train.patience is None  # omitted fields keep their defaults
    assert config_from_dict(run.to_dict()) == run  # round trip through plain types


def test_overrides(tmp_path):
    run = load_config(write(tmp_path, tiny_config_dict()),
                      ["train.epochs=3", "train.lr=1e-4", "model_config.dropout=0",
                       "train.grad_clip=null", "train.label_columns=[instrument, pitch]",
                       "features.trim_db=30"])
    assert run.train.epochs == 3 and run.train.lr == pytest.approx(1e-4)
    assert run.model_config.dropout == 0.0 and isinstance(run.model_config.dropout, float)
    assert run.train.grad_clip is None
    assert run.train.label_columns == ["instrument", "pitch"]
    assert run.features.trim_db == 30.0


@pytest.mark.parametrize("data, override, message", [
    ({"extra": 1}, None, "unknown top-level key 'extra'"),
    ({"train": {"epochz": 3}}, None, "unknown key 'epochz' for TrainConfig"),
    ({"model_config": {"wings": 2}}, None, "unknown key 'wings' for TinyConfig"),
    ({"features": {"kind": "wav"}}, None, "features.kind: 'wav' is not one of"),
    ({"model": "no_such_model"}, None, "unknown model 'no_such_model'"),
    ({}, "train.epochs=many", "train.epochs: expected an integer"),
    ({}, "optim.lr=1", "unknown section 'optim'"),
    ({}, "train.lr", "not of the form key=value"),
])
def test_errors_name_key_and_file(tmp_path, data, override, message):
    cfg = tiny_config_dict()
    for key, value in data.items():
        cfg[key] = {**cfg[key], **value} if isinstance(value, dict) and key in cfg else value
    path = write(tmp_path, cfg)
    with pytest.raises(ConfigError, match=message) as err:
        load_config(path, [override] if override else [])
    assert "run.yaml" in str(err.value)


def test_missing_config():
    with pytest.raises(ConfigError, match="no such config"):
        load_config("definitely-not-shipped")


def test_shipped_configs_load():
    for name in available_configs():
        run = load_config(name)
        assert run.model in ("gmvae", "mdgmvae") or run.model
        assert run.train.epochs > 0
