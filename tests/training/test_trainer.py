"""The training loop: CLI run, resume equivalence, log, best selection, early stop."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch

from disentangle.checkpoint import load_checkpoint, load_model
from disentangle.configs import config_from_dict
from disentangle.training import trainer as trainer_mod
from disentangle.training.trainer import train

from .helpers import REPO, gmvae_config_dict, state_equal, tiny_config_dict


def run(cfg: dict, corpus_dir, out, **kw):
    return train(config_from_dict(cfg), corpus_dir, out, device="cpu", progress=False, **kw)


@pytest.mark.slow
def test_train_script_one_epoch_subprocess(corpus_dir, tmp_path):
    """scripts/train.py end to end on the real GMVAE at tiny capacity."""
    import yaml

    cfg_path = tmp_path / "tiny.yaml"
    cfg_path.write_text(yaml.safe_dump(gmvae_config_dict(epochs=5)))
    out = tmp_path / "runs" / "tiny"
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "train.py"), "--config", str(cfg_path),
         "--data", str(corpus_dir), "--out", str(out), "--epochs", "1", "--device", "cpu",
         "--quiet", "--set", "train.lr=5e-4", "--half"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    artifact = tmp_path / "runs" / "tiny.pt"
    assert proc.stdout.strip().endswith(str(artifact))
    assert {p.name for p in out.iterdir()} == {"best.pt", "last.pt", "log.jsonl"}
    lines = (out / "log.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["epoch"] == 1
    ckpt = load_checkpoint(artifact)
    assert ckpt["train_state"] is None and ckpt["model"] == "gmvae"
    assert ckpt["half"] and all(ckpt["state_dict"][k].dtype == torch.float32 for k in ckpt["half"])  # --half
    assert "half" not in load_checkpoint(out / "best.pt")  # the resumable files keep float32
    assert ckpt["meta"]["run_config"]["train"]["lr"] == pytest.approx(5e-4)
    assert "test_loss" in ckpt["report"] and "training" in ckpt["report"]
    assert load_checkpoint(out / "last.pt")["train_state"]["epoch"] == 1
    model = load_model(out)  # a run folder loads its best.pt
    assert model.name == "gmvae" and not model.training


def load_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_script", REPO / "scripts" / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_script_rejects_bad_config(corpus_dir, tmp_path, capsys):
    script = load_script()
    assert script.main(["--config", "no-such-config", "--data", str(corpus_dir),
                        "--out", str(tmp_path / "x")]) == 2
    assert "no-such-config" in capsys.readouterr().err
    assert script.main(["--config", "gmvae-cpu", "--data", str(corpus_dir),
                        "--out", str(tmp_path / "x"), "--set", "train.epochz=1"]) == 2
    assert "unknown key 'epochz'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_train_command_help_documents_usage(capsys):
    from disentangle.cli import train as command

    with pytest.raises(SystemExit):
        command.parse_args(["--help"])
    text = capsys.readouterr().out
    for word in ("--config", "--data", "--out", "--epochs", "--device", "--resume", "--set", "--half",
                 "torchrun", "last.pt", "best.pt", "log.jsonl"):
        assert word in text


def test_log_lines_and_best_selection(corpus_dir, tmp_path):
    out = tmp_path / "run"
    artifact = run(tiny_config_dict(epochs=4), corpus_dir, out)
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3, 4]
    for r in records:
        assert {"train/loss", "valid/loss", "valid/recon/mse", "lr", "seconds"} <= set(r)
    best_epoch = min(records, key=lambda r: r["valid/loss"])["epoch"]
    assert [r["epoch"] for r in records if r["best"]][-1] == best_epoch
    best = load_checkpoint(out / "best.pt")
    assert best["train_state"]["epoch"] == best_epoch
    assert best["meta"]["best_epoch"] == best_epoch
    assert load_checkpoint(out / "last.pt")["train_state"]["epoch"] == 4
    shipped = load_checkpoint(artifact)
    assert state_equal(shipped["state_dict"], best["state_dict"])
    assert shipped["report"]["training"]["best_epoch"] == best_epoch
    assert len(shipped["history"]) == 4


class MeanOfX(torch.nn.Module):
    """loss = mean over the batch of each item's value: the item mean is known."""

    def loss(self, batch, epoch):
        return {"loss": batch["x"].mean(), "twice": 2 * batch["x"].mean()}


def test_validation_mean_covers_all_batches():
    """Every batch counts, weighted by its size (the reference kept only the last)."""
    values = torch.arange(7, dtype=torch.float32)  # 7 items in batches of 3, 3, 1
    loader = [{"x": values[i:i + 3]} for i in range(0, 7, 3)]
    totals = trainer_mod.evaluate_loss(MeanOfX(), loader, 0, torch.device("cpu"))
    means = trainer_mod._means(totals)
    assert totals["loss"][1] == 7
    assert means["loss"] == pytest.approx(float(values.mean()))
    assert means["twice"] == pytest.approx(2 * float(values.mean()))


def test_resume_equals_straight_run(corpus_dir, tmp_path):
    straight = tmp_path / "straight"
    run(tiny_config_dict(epochs=3), corpus_dir, straight)
    split = tmp_path / "split"
    run(tiny_config_dict(epochs=3), corpus_dir, split, epochs=1)
    run(tiny_config_dict(epochs=3), corpus_dir, split, resume=True)
    a, b = load_checkpoint(straight / "last.pt"), load_checkpoint(split / "last.pt")
    assert state_equal(a["state_dict"], b["state_dict"])
    assert (straight / "log.jsonl").read_text().count("\n") == 3
    la = [json.loads(x) for x in (straight / "log.jsonl").read_text().splitlines()]
    lb = [json.loads(x) for x in (split / "log.jsonl").read_text().splitlines()]
    assert [r["valid/loss"] for r in la] == [r["valid/loss"] for r in lb]


def test_same_seed_same_weights(corpus_dir, tmp_path):
    run(tiny_config_dict(epochs=1), corpus_dir, tmp_path / "a")
    run(tiny_config_dict(epochs=1), corpus_dir, tmp_path / "b")
    run(tiny_config_dict(epochs=1, seed=1), corpus_dir, tmp_path / "c")
    a, b, c = (load_checkpoint(tmp_path / n / "last.pt")["state_dict"] for n in "abc")
    assert state_equal(a, b)
    assert not state_equal(a, c)


class Interrupt(Exception):
    pass


def test_killed_mid_epoch_then_resume_loses_nothing(corpus_dir, tmp_path, monkeypatch):
    straight = tmp_path / "straight"
    run(tiny_config_dict(epochs=3), corpus_dir, straight)

    from .helpers import TinyModel

    real_step = TinyModel.train_step
    calls = {"n": 0}

    def dying_step(self, batch, optimizers, epoch, grad_clip=None):
        calls["n"] += 1
        if epoch == 1 and calls["n"] > 6:  # part-way through the second epoch
            raise Interrupt()
        return real_step(self, batch, optimizers, epoch, grad_clip)

    monkeypatch.setattr(TinyModel, "train_step", dying_step)
    killed = tmp_path / "killed"
    with pytest.raises(Interrupt):
        run(tiny_config_dict(epochs=3), corpus_dir, killed)
    assert load_checkpoint(killed / "last.pt")["train_state"]["epoch"] == 1
    monkeypatch.setattr(TinyModel, "train_step", real_step)
    run(tiny_config_dict(epochs=3), corpus_dir, killed, resume=True)
    a, b = load_checkpoint(straight / "last.pt"), load_checkpoint(killed / "last.pt")
    assert state_equal(a["state_dict"], b["state_dict"])
    assert [r["epoch"] for r in b["history"]] == [1, 2, 3]
    assert (killed / "log.jsonl").read_text().count("\n") == 3


@pytest.mark.slow
def test_resume_restores_optimizers_of_two_optimizer_model(corpus_dir, tmp_path):
    """GMVAE with removers has two optimizers; both must come back on resume."""
    cfg = gmvae_config_dict(epochs=2)
    run(cfg, corpus_dir, tmp_path / "straight")
    run(cfg, corpus_dir, tmp_path / "split", epochs=1)
    state = load_checkpoint(tmp_path / "split" / "last.pt")["train_state"]
    assert set(state["optimizers"]) == {"main", "removers"}
    run(cfg, corpus_dir, tmp_path / "split", resume=True)
    a = load_checkpoint(tmp_path / "straight" / "last.pt")["state_dict"]
    b = load_checkpoint(tmp_path / "split" / "last.pt")["state_dict"]
    assert state_equal(a, b)


def test_early_stopping_and_plateau(corpus_dir, tmp_path):
    # a huge min_delta means no epoch after the first counts as better
    out = tmp_path / "run"
    run(tiny_config_dict(epochs=10, patience=2, min_delta=1e9, lr_patience=0, lr_factor=0.5),
        corpus_dir, out)
    records = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert len(records) == 3  # epoch 1 is best, then 2 bad epochs -> stop
    assert records[-1]["lr"]["main"] < records[0]["lr"]["main"]


def test_cosine_schedule_ends_at_lr_final_and_resumes_exactly(corpus_dir, tmp_path):
    cfg = tiny_config_dict(epochs=3, lr_schedule="cosine", lr_final=0.1)
    straight, split = tmp_path / "straight", tmp_path / "split"
    run(cfg, corpus_dir, straight)
    lrs = [json.loads(x)["lr"]["main"] for x in (straight / "log.jsonl").read_text().splitlines()]
    # logged after each epoch's step: cos(pi/3), cos(2pi/3), cos(pi) of the way from 1e-2 to 1e-3
    assert lrs == pytest.approx([1e-2 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * e / 3))) for e in (1, 2, 3)])
    run(cfg, corpus_dir, split, epochs=1)  # a 1-epoch run, then extended to 3: the 3-epoch schedule
    run(cfg, corpus_dir, split, resume=True)
    a, b = load_checkpoint(straight / "last.pt"), load_checkpoint(split / "last.pt")
    assert state_equal(a["state_dict"], b["state_dict"])
    with pytest.raises(ValueError, match="lr_schedule"):
        config_from_dict(tiny_config_dict(lr_schedule="step"))


def test_valid_split_carved_from_train_when_missing(tmp_path):
    from disentangle.data.schema import Item
    from disentangle.training.data import split_indices

    items = [Item(path=f"{i}.wav", split="train") for i in range(20)] + [Item("t.wav", "test")]
    s = split_indices(items, 0.25, seed=0)
    assert len(s["valid"]) == 5 and len(s["train"]) == 15 and list(s["test"]) == [20]
    assert not set(s["valid"]) & set(s["train"])
    assert list(split_indices(items, 0.25, seed=0)["valid"]) == list(s["valid"])


def test_resume_with_other_architecture_is_a_clear_error(corpus_dir, tmp_path):
    out = tmp_path / "run"
    run(tiny_config_dict(epochs=1), corpus_dir, out)
    cfg = tiny_config_dict(epochs=2)
    cfg["model_config"]["hidden"] = 5
    with pytest.raises(ValueError, match="cannot resume: last.pt's weights do not fit"):
        run(cfg, corpus_dir, out, resume=True)


def test_models_wanting_perturbed_audio_get_it_in_training_only(corpus_dir, tmp_path):
    from .helpers import TinyPerturbedModel

    TinyPerturbedModel.seen.clear()
    cfg = tiny_config_dict(epochs=1)
    cfg["model"] = "tiny_perturbed_test"
    out = tmp_path / "run"
    run(cfg, corpus_dir, out)
    train_keys = {tuple(k) for training, k in TinyPerturbedModel.seen if training}
    valid_keys = {tuple(k) for training, k in TinyPerturbedModel.seen if not training}
    assert train_keys == {("index", "labels", "x", "x_pitch", "x_timbre")}
    assert valid_keys == {("index", "labels", "x")}
    record = json.loads((out / "log.jsonl").read_text())
    assert record["train/pert/diff"] > 0  # the copies really are perturbed
    assert list((corpus_dir / ".cache").glob("perturbed-*.npy"))  # K variants cached


def test_progress_bars_do_not_change_what_is_learned(corpus_dir, tmp_path):
    """A bar must not touch the loader: tqdm.auto's bar calls iter() on what it wraps,
    which drew one extra seed from the loader's generator and reshuffled every epoch."""
    cfg = config_from_dict(tiny_config_dict(epochs=2))
    for name, progress in (("quiet", False), ("bars", True)):
        train(cfg, corpus_dir, tmp_path / name, device="cpu", progress=progress)
    quiet, bars = (load_checkpoint(tmp_path / n / "last.pt") for n in ("quiet", "bars"))
    assert state_equal(quiet["state_dict"], bars["state_dict"])
    assert [r["valid/loss"] for r in quiet["history"]] == [r["valid/loss"] for r in bars["history"]]


def test_resume_removes_temporary_files_of_a_killed_write(corpus_dir, tmp_path, kill_mid_write):
    out = tmp_path / "run"
    run(tiny_config_dict(epochs=2), corpus_dir, out, epochs=1)
    kill_mid_write(out / "last.pt")             # killed while saving epoch 2
    kill_mid_write(tmp_path / "run.pt")         # or while writing the artifact
    (tmp_path / ".someone-else.pt.x.tmp").write_bytes(b"")  # another run's: left alone
    assert len([p for p in out.iterdir() if p.name.startswith(".last.pt.")]) == 1
    run(tiny_config_dict(epochs=2), corpus_dir, out, resume=True)
    assert sorted(p.name for p in out.iterdir()) == ["best.pt", "last.pt", "log.jsonl"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".someone-else.pt.x.tmp", "run", "run.pt"]
    assert load_checkpoint(out / "last.pt")["train_state"]["epoch"] == 2


def test_training_records_the_corpus_kind(tmp_path):
    """So a checkpoint's kind does not depend on the name of the folder it was trained on."""
    import json

    from .helpers import make_corpus

    root = make_corpus(tmp_path / "renamed")
    (root / "build.json").write_text(json.dumps({"corpus": "notes"}))
    artifact = run(tiny_config_dict(epochs=1), root, tmp_path / "run")
    assert load_checkpoint(artifact)["meta"]["corpus"]["kind"] == "notes"
