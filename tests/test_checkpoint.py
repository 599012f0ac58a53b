"""Self-describing checkpoints: round trip, atomic writes, and every kind of bad file."""
from __future__ import annotations

import os
import pickle

import pytest
import torch
from training.helpers import TinyConfig, TinyModel, state_equal

import disentangle
from disentangle import checkpoint as ck
from disentangle.checkpoint import (
    FORMAT,
    CheckpointError,
    load_checkpoint,
    load_model,
    save_checkpoint,
    strip_training_state,
    update_report,
)
from disentangle.features.config import FeatureConfig
from disentangle.features.spectrogram import Normaliser

LABELS = {"instrument": ["a", "b"], "pitch": ["60", "61"]}


def tiny_model(**config) -> TinyModel:
    torch.manual_seed(0)
    return TinyModel(TinyConfig(**config), FeatureConfig(n_mels=8, n_frames=4), LABELS)


@pytest.fixture
def saved(tmp_path):
    model = tiny_model()
    opt = model.make_optimizers(1e-3)
    path = save_checkpoint(tmp_path / "m.pt", model, Normaliser("minmax", -2.0, 3.0),
                           train_state={"optimizers": {k: o.state_dict() for k, o in opt.items()},
                                        "epoch": 3, "rng": {"torch": torch.get_rng_state()}},
                           report={"probe/timbre": 0.5}, history=[{"epoch": 1, "valid/loss": 2.0}],
                           meta={"corpus": {"name": "tiny", "fingerprint": "abc"}})
    return model, path


def test_round_trip(saved):
    model, path = saved
    raw = torch.load(path, weights_only=True)  # plain types and tensors only
    assert raw["format"] == FORMAT and raw["model"] == "tiny_test"
    assert raw["label_maps"] == LABELS and raw["features"]["n_mels"] == 8
    assert raw["meta"]["corpus"]["name"] == "tiny" and raw["meta"]["torch"] == str(torch.__version__)
    loaded = load_model(path)
    assert isinstance(loaded, TinyModel) and not loaded.training
    assert state_equal(loaded.state_dict(), model.state_dict())
    assert loaded.normaliser == Normaliser("minmax", -2.0, 3.0)
    assert loaded.report == {"probe/timbre": 0.5}
    assert loaded.checkpoint_path == path.resolve()
    assert loaded.history[0]["valid/loss"] == 2.0


def test_package_reexports_load_model():
    assert disentangle.load_model is load_model


def test_run_folder_and_bare_name(saved, tmp_path, monkeypatch):
    _model, path = saved
    run = tmp_path / "run"
    run.mkdir()
    os.replace(path, run / "best.pt")
    assert load_model(run).checkpoint_path == (run / "best.pt").resolve()
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    os.replace(run / "best.pt", shipped / "mymodel.pt")
    monkeypatch.setattr(ck, "checkpoints_dir", lambda: shipped)
    assert load_model("mymodel").checkpoint_path == (shipped / "mymodel.pt").resolve()
    with pytest.raises(CheckpointError, match="no checkpoint named 'other'.*mymodel"):
        load_model("other")


def test_default_checkpoints_dir_is_repo_root():
    from pathlib import Path

    assert ck.checkpoints_dir() == Path(disentangle.__file__).resolve().parents[1] / "checkpoints"


def test_strip_and_update_report(saved, tmp_path):
    _, path = saved
    out = strip_training_state(path, tmp_path / "ship.pt")
    stripped = load_checkpoint(out)
    assert stripped["train_state"] is None and stripped["history"]
    assert load_checkpoint(path)["train_state"]["epoch"] == 3  # source untouched
    update_report(out, {"f1": {"timbre": 0.9}})
    assert load_checkpoint(out)["report"] == {"probe/timbre": 0.5, "f1": {"timbre": 0.9}}


def test_atomic_write_keeps_old_file_on_failure(saved, tmp_path):
    _, path = saved
    before = path.read_bytes()

    def failing(tmp):
        with open(tmp, "wb") as f:
            f.write(b"half a checkpoint")
        raise KeyboardInterrupt  # killed mid-write

    with pytest.raises(KeyboardInterrupt):
        ck.atomic_write(path, failing)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="nope.pt: checkpoint file not found"):
        load_model(tmp_path / "nope.pt")


def test_empty_and_truncated(saved, tmp_path):
    _, path = saved
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(empty)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"cut\.pt: truncated"):
        load_model(cut)


def test_random_binary(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(CheckpointError, match=r"junk\.pt: .*not a torch checkpoint"):
        load_model(junk)


def test_foreign_torch_file(tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "epoch": 1}, other)
    with pytest.raises(CheckpointError, match="other.pt: not a disentangle checkpoint"):
        load_model(other)
    bare = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), bare)
    with pytest.raises(CheckpointError, match="not a disentangle checkpoint"):
        load_model(bare)


def test_pickle_needing_unsafe_load(tmp_path):
    evil = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "obj": Normaliser()}, evil)  # a pickled class instance
    with pytest.raises(CheckpointError, match="weights_only=False"):
        load_model(evil)
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(CheckpointError, match="plain.pkl"):
        load_model(plain)


def _tamper(path, **changes):
    ckpt = torch.load(path, weights_only=True)
    ckpt.update(changes)
    torch.save(ckpt, path)


def test_unknown_model_name(saved):
    _, path = saved
    _tamper(path, model="no_such_model")
    with pytest.raises(CheckpointError, match="unknown model 'no_such_model'"):
        load_model(path)


def test_config_does_not_match_weights(saved):
    _, path = saved
    ckpt = torch.load(path, weights_only=True)
    _tamper(path, model_config=dict(ckpt["model_config"], hidden=16))
    with pytest.raises(CheckpointError, match="weights do not match"):
        load_model(path)


def test_config_with_unknown_field(saved):
    _, path = saved
    ckpt = torch.load(path, weights_only=True)
    _tamper(path, model_config=dict(ckpt["model_config"], wings=2))
    with pytest.raises(CheckpointError, match="'wings'"):
        load_model(path)


def test_missing_keys(saved):
    _, path = saved
    ckpt = torch.load(path, weights_only=True)
    del ckpt["state_dict"]
    torch.save(ckpt, path)
    with pytest.raises(CheckpointError, match="missing keys.*state_dict"):
        load_model(path)


def test_half_precision_storage(saved, tmp_path):
    model, path = saved
    half = save_checkpoint(tmp_path / "half.pt", model, Normaliser("minmax", -2.0, 3.0), half=True)
    raw = torch.load(half, weights_only=True)
    floats = [k for k, v in model.state_dict().items() if v.dtype == torch.float32]
    assert floats and raw["half"] == sorted(floats)  # self-describing
    assert all(raw["state_dict"][k].dtype == torch.float16 for k in floats)
    assert half.stat().st_size < path.stat().st_size
    loaded = load_model(half)
    for key, value in model.state_dict().items():
        got = loaded.state_dict()[key]
        assert got.dtype == value.dtype  # float32 again, integer buffers untouched
        torch.testing.assert_close(got, value, rtol=1e-3, atol=1e-4)
    update_report(half, {"f1": 1.0})  # rewriting a half file keeps it half
    assert torch.load(half, weights_only=True)["half"] == sorted(floats)
    out = strip_training_state(path, tmp_path / "ship.pt", half=True)
    assert torch.load(out, weights_only=True)["half"] == sorted(floats)


def test_half_precision_refuses_out_of_range_weights(tmp_path):
    model = tiny_model()
    name, param = next(iter(model.named_parameters()))
    with torch.no_grad():
        param.view(-1)[0] = 1e6
    with pytest.raises(ValueError, match=f"{name}.*65504"):
        save_checkpoint(tmp_path / "m.pt", model, Normaliser("minmax", 0.0, 1.0), half=True)
    assert not (tmp_path / "m.pt").exists()
