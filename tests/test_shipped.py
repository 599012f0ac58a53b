"""The shipped checkpoints: small, loadable with weights_only, self-describing,
and their stored reports (measured by scripts/evaluate.py) hold the figures
docs/results.md states: the targets they meet are asserted here; the ones
they miss are listed there, not asserted."""
from __future__ import annotations

import json

import pytest

from disentangle.checkpoint import checkpoints_dir, load_model
from disentangle.configs import load_config

SHIPPED = sorted(checkpoints_dir().glob("*.pt"))


def test_the_four_models_ship():
    assert {p.stem for p in SHIPPED} >= {"gmvae", "mdgmvae", "threefactor", "reentry", "jdsae"}


@pytest.fixture(scope="module", params=SHIPPED, ids=lambda p: p.stem)
def shipped(request):
    path = request.param
    return path, load_model(path)  # weights_only=True inside


def test_small_self_describing_and_report_beside(shipped):
    path, model = shipped
    assert path.stat().st_size <= 10 * 2**20  # a Space takes plain pushes up to 10 MiB
    assert model.meta["corpus"]["name"] in ("notes", "phrases")
    assert model.label_maps and model.spaces and model.features
    report = model.report
    beside = json.loads(path.with_suffix(".report.json").read_text())
    assert report["recon_mse"] == beside["recon_mse"] and report["knn_acc"] == beside["knn_acc"]
    assert report.get("synthesis") == beside.get("synthesis")
    # Every report measures the model on a sample source it never trained on.
    assert report["cross_source"] == beside["cross_source"] and report["cross_source"]
    for section in report["cross_source"].values():
        assert not set(section["held_sources"]) & set(section["train_sources"])
    assert path.with_suffix(".report.md").is_file()
    assert not report["checkpoint"].startswith("/"), "reports name paths relative to the repository"


def scores(path):
    return json.loads(path.with_suffix(".report.json").read_text())


def test_gmvae_targets():
    r = scores(checkpoints_dir() / "gmvae.pt")
    f1 = r["probe_f1"]
    assert f1["timbre"]["instrument"] >= 0.95 and f1["pitch"]["pitch"] >= 0.90
    assert f1["timbre"]["pitch"] <= 0.20 and f1["pitch"]["instrument"] <= 0.35
    # Luo 2019 Sec. 4.3: targets are the test items' (instrument, pitch); drums have no pitch component.
    assert r["synthesis"]["targets"] + r["synthesis"]["left_out"] == r["n_eval"]
    # Zero-shot on the validation source (docs/results.md lists the floors it misses: pitch F1, judge).
    cs = r["cross_source"]["notes:musescore-lite"]
    assert cs["recon_mse"]["ratio"] <= 1.5
    assert cs["probe_f1"]["timbre"]["instrument"] >= 0.80 and cs["nn1_acc"]["timbre"]["instrument"] >= 0.75
    assert cs["nn1_acc"]["pitch"]["pitch"] >= 0.85
    # 256 mel bands since session 15: the probe reads the unseen bank's pitch at 0.87 (0.80 on 128
    # bands; floor 0.90, missed at the piano's lowest and highest notes, docs/results.md).
    assert r["features"]["n_mels"] == 256 and cs["probe_f1"]["pitch"]["pitch"] >= 0.85
    # Its inputs are level-normalised: a user's sound lands where it does at any gain.
    assert r["features"]["amplitude"] == "mean_one"


def test_mdgmvae_targets():
    r = scores(checkpoints_dir() / "mdgmvae.pt")
    f1 = r["probe_f1"]
    own = {"timbre": "instrument", "pitch": "pitch", "dynamics": "dynamics", "duration": "duration"}
    floor = {"instrument": 0.90, "pitch": 0.90, "dynamics": 0.85, "duration": 0.90}
    for space, label in own.items():
        assert f1[space][label] >= floor[label]
        others = [f1[s][label] for s in own if s != space]
        assert f1[space][label] - max(others) >= 0.3
    cs = r["cross_source"]["notes:musescore-lite"]
    assert cs["probe_f1"]["timbre"]["instrument"] >= 0.80 and cs["nn1_acc"]["timbre"]["instrument"] >= 0.75
    # 1.58 with 64 mel bands on the FluidSynth render (its pp notes are quieter and darker than any
    # training bank's); 1.49 with 128 bands (session 15, docs/results.md).
    assert cs["recon_mse"]["ratio"] <= 1.5
    assert r["features"]["n_mels"] == 128 and cs["probe_f1"]["pitch"]["pitch"] >= 0.85


def test_threefactor_on_notes():
    r = scores(checkpoints_dir() / "threefactor.pt")
    knn = r["knn_acc"]
    # Tanaka 2022 read-outs, frame-wise for the local spaces. Timbre misses 0.90 on the pitched
    # notes (0.891 since session 20, 0.896 in 19, 0.885 in 18, 0.847 before; docs/results.md).
    assert knn["pitch"]["pitch"] >= 0.70 and knn["timbre"]["instrument"] >= 0.85
    assert knn["timbre"]["pitch"] <= 0.2 and knn["variation"]["pitch"] <= 0.2
    # `--config threefactor-notes-cpu` alone retrains it (session 19: sigma^2 0.0078, +-12 semitones;
    # session 20: batch 64 at lr 0.0014, which keeps the run within the 45-minute budget).
    model, run = load_model(checkpoints_dir() / "threefactor.pt"), load_config("threefactor-notes-cpu")
    cfg = model.config
    assert (cfg.sigma2, cfg.semitones) == (run.model_config.sigma2, run.model_config.semitones) == (0.0078, 12)
    trained = model.meta["run_config"]["train"]  # the checkpoint's own record of its training
    assert (trained["batch_size"], trained["lr"], trained["epochs"]) == (run.train.batch_size, run.train.lr,
                                                                       run.train.epochs) == (64, 0.0014, 20)
    cs = r["cross_source"]["notes:musescore-lite"]
    assert cs["probe_f1"]["timbre"]["instrument"] >= 0.70
    assert set(r["frame_wise"]["pitch"]) >= {"pitch", "instrument"}


def test_reentry_targets():
    knn = scores(checkpoints_dir() / "reentry.pt")["knn_acc"]
    # Issue #10's in-domain floor is 0.90; on the four-source phrases the model reaches
    # 0.815 (0.768 with the papers' sigma^2 left unscaled, session 5; round 1, one
    # SoundFont: 0.933): missed, see docs/results.md.
    assert knn["timbre"]["instrument"] >= 0.80 and knn["timbre"]["pitch"] <= 0.2
    assert knn["pitch"]["pitch"] >= 0.6 and knn["variation"]["pitch"] <= 0.2


def test_jdsae_has_swap_scores():
    swaps = scores(checkpoints_dir() / "jdsae.pt")["swaps"]
    assert set(swaps["rpa"]) >= {"v-swap", "z-swap", "recon", "real"}
    assert set(swaps["frechet"]) >= {"recon", "v-swap", "z-swap", "random-v"}
