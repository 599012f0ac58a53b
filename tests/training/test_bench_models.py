"""`bench.py models` on a tiny config: a fresh model, then a shipped checkpoint."""
from __future__ import annotations

import argparse
import json

import yaml

from disentangle.benchmarks import models as bench
from disentangle.checkpoint import save_checkpoint
from disentangle.configs import config_from_dict
from disentangle.features.spectrogram import Normaliser

from .helpers import TinyModel, tiny_config_dict


def args_for(cfg_path, ckpt_dir, out_json):
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    return parser.parse_args(["--configs", str(cfg_path), "--steps", "2", "--repeats", "2",
                              "--devices", "cpu", "--checkpoints", str(ckpt_dir),
                              "--json", str(out_json)])


def test_bench_models_fresh_and_shipped(tmp_path, capsys):
    cfg = tiny_config_dict()
    cfg_path = tmp_path / "tinybench.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    ckpt_dir = tmp_path / "checkpoints"
    ckpt_dir.mkdir()

    rows = bench.run(args_for(cfg_path, ckpt_dir, tmp_path / "a.json"))
    (row,) = rows
    assert row["weights"] == "fresh" and row["train_wall_s"] is None
    assert row["train_items_per_s"] > 0 and row["encode_ms_batch"] > 0 and row["decode_ms_1"] > 0
    out = capsys.readouterr().out
    assert "train items/s" in out and "enc B ms" in out and row["latency_batch"] == 256

    run = config_from_dict(cfg)
    model = TinyModel(run.model_config, run.features, {"instrument": ["a", "b"]})
    history = [{"epoch": 1, "seconds": 2.0, "items_per_second": 10.0},
               {"epoch": 2, "seconds": 3.0, "items_per_second": 20.0}]
    save_checkpoint(ckpt_dir / "tinybench.pt", model, Normaliser(), history=history,
                    meta={"train_seconds": 5.25, "device": "cpu", "world_size": 1})
    (row,) = bench.run(args_for(cfg_path, ckpt_dir, tmp_path / "b.json"))
    assert row["weights"].endswith("tinybench.pt")
    assert row["train_wall_s"] == 5.2 or row["train_wall_s"] == 5.3
    assert row["train_epochs"] == 2 and row["logged_items_per_s"] == 15.0
    assert json.loads((tmp_path / "b.json").read_text())[0]["config"] == str(cfg_path)
