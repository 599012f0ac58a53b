"""scripts/evaluate.py as a user runs it: a real (tiny, untrained) GMVAE on wav files."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from disentangle.checkpoint import load_checkpoint, save_checkpoint
from disentangle.data.schema import Item, load_corpus, write_metadata
from disentangle.features.cache import load_features
from disentangle.features.config import FeatureConfig
from disentangle.features.spectrogram import Normaliser
from disentangle.models import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
FEATURES = FeatureConfig(sample_rate=8000, n_fft=256, hop_length=128, n_mels=16, fmax=4000.0, n_frames=16)


def _corpus(root: Path) -> None:
    """Two 'instruments' (harmonic spectra) x three pitches, a few takes each."""
    rng = np.random.default_rng(0)
    t = np.arange(int(0.3 * FEATURES.sample_rate)) / FEATURES.sample_rate
    items = []
    for inst, harmonics in (("flute", [1.0, 0.1]), ("oboe", [0.3, 1.0, 0.8, 0.6])):
        for midi in (60, 64, 67):
            f0 = 440.0 * 2 ** ((midi - 69) / 12)
            for take in range(6):
                wave = sum(a * np.sin(2 * np.pi * f0 * (h + 1) * t) for h, a in enumerate(harmonics))
                wave = 0.3 * wave / np.abs(wave).max() + 0.003 * rng.standard_normal(len(t))
                rel = f"audio/{inst}-{midi}-{take}.wav"
                (root / "audio").mkdir(parents=True, exist_ok=True)
                sf.write(root / rel, wave.astype(np.float32), FEATURES.sample_rate)
                items.append(Item(rel, "test" if take < 2 else "train", inst, "woodwinds", midi, "mf"))
    write_metadata(root / "metadata.csv", items)


@pytest.mark.slow
def test_evaluate_script_writes_json_markdown_and_checkpoint(tmp_path):
    data = tmp_path / "corpus"
    _corpus(data)
    corpus = load_corpus(data)
    fs = load_features(corpus, FEATURES, progress=False)
    cls = REGISTRY["gmvae"]
    config = cls.config_class(timbre_dim=4, pitch_dim=4, channels=16, hidden=16)
    maps = {"instrument": ["flute", "oboe"], "pitch": ["60", "64", "67"]}
    torch.manual_seed(0)
    model = cls(config, FEATURES, maps)
    ckpt = tmp_path / "run" / "best.pt"
    save_checkpoint(ckpt, model, Normaliser.fit(fs.x, FEATURES), report={"trained": "yes"})

    out = tmp_path / "eval" / "report.json"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), "--checkpoint", str(ckpt),
                           "--data", str(data), "--out", str(out), "--write-checkpoint", "--threads", "1"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    for key in ("recon_mse", "probe_f1", "knn_acc", "synthesis", "transfer", "classifiers", "components"):
        assert key in report
    assert set(report["probe_f1"]) == {"timbre", "pitch"}
    assert set(report["probe_f1"]["timbre"]) == {"instrument", "pitch"}
    assert {"w=0", "w=0.5", "w=1"} <= set(report["synthesis"])
    assert report["components"] == "prior"
    # The judges see real features: two very different spectra are easy.
    assert report["classifiers"]["instrument"]["f1"] > 0.9
    assert (out.parent / "report.md").read_text().startswith("# Evaluation of `gmvae`")
    stored = load_checkpoint(ckpt)["report"]
    assert stored["trained"] == "yes" and stored["recon_mse"] == pytest.approx(report["recon_mse"])
    assert list((data / ".cache").glob("classifier-*.pt"))  # judges cached beside the corpus


@pytest.mark.slow
def test_fit_on_writes_a_cross_source_section(tmp_path):
    data, held = tmp_path / "corpus", tmp_path / "other"
    _corpus(data)
    _corpus(held)
    # The held corpus as a new source: every item unseen, one instrument TRAIN never saw.
    items = [dataclasses.replace(i, split="unseen", source="bank-b") for i in load_corpus(held).items]
    items[0] = dataclasses.replace(items[0], instrument="kazoo")
    write_metadata(held / "metadata.csv", items)
    fs = load_features(load_corpus(data), FEATURES, progress=False)
    cls = REGISTRY["gmvae"]
    torch.manual_seed(0)
    model = cls(cls.config_class(timbre_dim=4, pitch_dim=4, channels=16, hidden=16), FEATURES,
                {"instrument": ["flute", "oboe"], "pitch": ["60", "64", "67"]})
    ckpt = tmp_path / "run" / "best.pt"
    save_checkpoint(ckpt, model, Normaliser.fit(fs.x, FEATURES))
    out = tmp_path / "eval" / "cross.json"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), "--checkpoint", str(ckpt),
                           "--fit-on", str(data), "--data", str(held), "--cross-only", "--out", str(out),
                           "--threads", "1", "--quiet"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert "probe_f1" not in report  # --cross-only
    section = report["cross_source"]["other:bank-b"]
    assert section["held_split"] == "unseen" and section["n_held"] == len(items)
    assert section["left_out"]["instrument"] == 1
    assert set(section["probe_f1"]) == {"timbre", "pitch"} and set(section["nn1_acc"]) == {"timbre", "pitch"}
    assert section["recon_mse"]["ratio"] > 0 and set(section["judges"]) == {"instrument", "pitch"}
    assert "## Cross-source: `other:bank-b`" in out.with_suffix(".md").read_text()
    # Measured again into a full report: only that section is replaced, nothing else is lost.
    full = {"checkpoint": report["checkpoint"], "probe_f1": {"timbre": {"instrument": 0.5}},
            "seconds": {"total": 1.0}, "cross_source": {"other:bank-b": {}, "far:bank-c": section | {"n_held": 3}}}
    out.write_text(json.dumps(full))
    proc = subprocess.run(proc.args, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    merged = json.loads(out.read_text())
    assert merged["probe_f1"] == full["probe_f1"] and merged["cross_source"]["far:bank-c"]["n_held"] == 3
    assert merged["cross_source"]["other:bank-b"]["n_held"] == len(items) and "cross_source" in merged["seconds"]


def test_cross_only_refuses_to_merge_into_another_checkpoints_report(tmp_path):
    from disentangle.cli.evaluate import merged_report

    path = tmp_path / "r.json"
    path.write_text(json.dumps({"checkpoint": "checkpoints/gmvae.pt", "cross_source": {}}))
    cross = {"checkpoint": "runs/x.pt", "seconds": {"total": 1.0}, "cross_source": {"a:b": {}}}
    with pytest.raises(SystemExit, match="reports on checkpoints/gmvae.pt, not runs/x.pt"):
        merged_report(path, cross)
    path.write_text("{not json")
    with pytest.raises(SystemExit, match="not a readable report"):
        merged_report(path, cross)
    assert merged_report(tmp_path / "none.json", cross) is cross


def test_cross_only_needs_fit_on(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), "--checkpoint", "gmvae",
                           "--data", str(tmp_path), "--cross-only"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert proc.returncode == 2 and "need --fit-on TRAIN" in proc.stderr


@pytest.mark.slow
def test_bad_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / "nothing.pt"
    bad.write_bytes(b"")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), "--checkpoint", str(bad),
                           "--data", str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2
    assert "nothing.pt" in proc.stderr and "empty" in proc.stderr


def test_synthesis_repeats_below_one_is_refused(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), "--checkpoint", "gmvae",
                           "--data", str(tmp_path), "--synthesis-repeats", "0"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2
    assert "--synthesis-repeats must be at least 1, got 0" in proc.stderr
