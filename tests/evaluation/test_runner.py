"""`evaluate` end to end on synthetic data with known answers, and the Markdown report."""
from __future__ import annotations

import json

import numpy as np
import pytest
from eval_fixtures import JUDGES, OracleModel

from disentangle.evaluation import EvalConfig, evaluate, report_to_markdown, write_report
from disentangle.features.spectrogram import Normaliser

CFG = EvalConfig(classifier=JUDGES, repeats=2,
                 max_items=40, max_targets=2)


@pytest.fixture(scope="module")
def cache(judge_cache):
    return judge_cache


def _model(synthetic, **kw) -> OracleModel:
    model = OracleModel(synthetic, **kw)
    model.normaliser = Normaliser("none")
    return model


@pytest.fixture(scope="module")
def oracle_report(synthetic, feature_set, cache):
    return evaluate(_model(synthetic), feature_set, "test", cfg=CFG, cache_dir=cache)


def test_probes_see_each_factor_only_in_its_space(oracle_report):
    f1, acc = oracle_report["probe_f1"], oracle_report["knn_acc"]
    assert set(f1) == {"timbre", "pitch"}
    assert set(f1["timbre"]) == {"instrument", "pitch"}  # dynamics has one class: left out
    for table in (f1, acc):
        assert table["timbre"]["instrument"] > 0.9 and table["pitch"]["pitch"] > 0.9
        assert table["timbre"]["pitch"] < 0.5 and table["pitch"]["instrument"] < 0.6
    assert oracle_report["recon_mse"] < 0.02
    assert oracle_report["n_train"] == 120 and oracle_report["n_eval"] == 40


def test_synthesis_and_transfer_follow_the_components(oracle_report):
    assert oracle_report["components"] == "prior"
    assert oracle_report["classifiers"]["instrument"]["f1"] > 0.9
    assert oracle_report["classifiers"]["pitch"]["f1"] > 0.9
    assert oracle_report["classifiers"]["instrument"]["recon_f1"] > 0.9
    syn = oracle_report["synthesis"]
    assert {k for k in syn if k.startswith("w=")} == {"w=0", "w=0.5", "w=1"}
    # Luo 2019 Sec. 4.3: the targets are the evaluated items' (instrument, pitch).
    assert syn["targets"] == oracle_report["n_eval"] and syn["left_out"] == 0 and syn["repeats"] == 2
    assert syn["w=0"]["instrument_f1"] > 0.9 and syn["w=0"]["pitch_f1"] > 0.9
    tr = oracle_report["transfer"]
    assert [k for k in tr if k.startswith("alpha=")] == ["alpha=0", "alpha=0.25", "alpha=0.5",
                                                          "alpha=0.75", "alpha=1"]
    probs = [tr[k]["target_prob"] for k in tr if k.startswith("alpha=")]
    assert probs == sorted(probs) and probs[0] < 0.2 and probs[-1] > 0.6
    assert tr["alpha=0"]["target_acc"] < 0.1 and tr["alpha=1"]["target_acc"] > 0.9
    assert all(tr[k]["pitch_kept"] > 0.9 for k in tr if k.startswith("alpha="))
    json.dumps(oracle_report)  # JSON-able as it is


def test_baseline_without_priors_uses_class_means(synthetic, feature_set, cache):
    report = evaluate(_model(synthetic, priors=False), feature_set, cfg=CFG, cache_dir=cache)
    assert report["components"] == "class-means"
    assert report["components_by_space"] == {"timbre": "class-means", "pitch": "class-means"}
    assert report["synthesis"]["w=0"]["instrument_f1"] > 0.9
    assert report["transfer"]["alpha=1"]["target_acc"] > 0.9


def test_decoder_that_ignores_timbre_scores_badly(synthetic, feature_set, cache):
    report = evaluate(_model(synthetic, mode="deaf"), feature_set, cfg=CFG, cache_dir=cache)
    assert report["probe_f1"]["timbre"]["instrument"] > 0.9  # the encoder is still fine
    assert report["synthesis"]["w=0"]["instrument_f1"] < 0.5
    assert report["classifiers"]["instrument"]["recon_f1"] < 0.5  # its reconstructions lose timbre
    assert report["transfer"]["alpha=1"]["target_prob"] < 0.5
    assert report["transfer"]["alpha=1"]["target_acc"] < 0.5
    assert report["recon_mse"] > 10 * 0.02


def test_uninformative_space_probes_at_chance(synthetic, feature_set):
    cfg = EvalConfig(synthesis=False, transfer=False)
    report = evaluate(_model(synthetic, mode="noise"), feature_set, cfg=cfg)
    assert report["probe_f1"]["timbre"]["instrument"] < 0.5
    assert report["knn_acc"]["timbre"]["instrument"] < 0.5
    assert "skipped" in report["synthesis"]


def test_local_space_time_averaged_or_frame_wise(synthetic, feature_set):
    cfg = EvalConfig(synthesis=False, transfer=False)
    model = _model(synthetic, mode="local")
    report = evaluate(model, feature_set, cfg=cfg)
    assert report["frame_wise"] == {}
    assert report["probe_f1"]["pitch"]["pitch"] > 0.9

    def frame_pitch(items, column, n_frames):
        if column != "pitch":
            return None
        idx = np.array([model.label_maps["pitch"].index(it.label("pitch")) for it in items])
        return np.repeat(idx[:, None], n_frames, axis=1)

    report = evaluate(model, feature_set, cfg=cfg, frame_labels=frame_pitch)
    assert report["frame_wise"] == {"pitch": ["pitch"]}
    assert report["knn_acc"]["pitch"]["pitch"] > 0.9


def test_missing_split_is_a_clear_error(synthetic, feature_set):
    with pytest.raises(ValueError, match="valid"):
        evaluate(_model(synthetic), feature_set, split="valid", cfg=EvalConfig(synthesis=False))


def test_markdown_and_files(oracle_report, tmp_path):
    md = report_to_markdown(oracle_report)
    assert "| timbre |" in md and "| pitch |" in md
    assert "| 0.5 |" in md and "| 0.75 |" in md  # a synthesis row and a transfer row
    assert f"{oracle_report['recon_mse']:.3f}" in md
    json_path, md_path = write_report(oracle_report, tmp_path / "out" / "report.json")
    assert md_path == tmp_path / "out" / "report.md"
    assert json.loads(json_path.read_text())["probe_f1"] == oracle_report["probe_f1"]
    assert md_path.read_text().startswith("# Evaluation of `oracle-test`")
    skipped = report_to_markdown({"synthesis": {"skipped": "no pitch space"}, "transfer": {}})
    assert "Skipped: no pitch space." in skipped
    assert "Timbre transfer" not in skipped  # a section that was not run gets no heading
