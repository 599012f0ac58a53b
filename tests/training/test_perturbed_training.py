"""The trainer hook for models with `wants_perturbed_audio`: perturbed copies on
the fly or from K cached variants, reseeded per epoch; one epoch trains."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from disentangle.checkpoint import load_model
from disentangle.configs import config_from_dict, load_config
from disentangle.data.dataset import PerturbedAudioDataset
from disentangle.data.schema import Corpus
from disentangle.features.config import FeatureConfig
from disentangle.training import trainer as trainer_mod
from disentangle.training.data import prepare_data
from disentangle.training.perturbed import (
    CachedPerturbationDataset,
    build_variants,
    perturbed_train_dataset,
    variant_cache_path,
)
from disentangle.training.trainer import train

from .helpers import FEATURES

TINY_MODEL = {"hidden": 4, "layers": 1, "timbre_dim": 2, "variation_dim": 2, "pitch_dim": 2,
              "cepstrum_cutoff": 3, "kl_period": 2}


def config(model: str = "threefactor", **model_config) -> dict:
    return {"model": model, "model_config": {**TINY_MODEL, **model_config}, "features": dict(FEATURES),
            "train": {"epochs": 1, "batch_size": 4, "lr": 1e-2, "evaluate": False,
                      "label_columns": ["instrument", "pitch", "dynamics"]}}



@pytest.mark.parametrize("model,cache", [("threefactor", 0), ("reentry", 2)])
def test_one_epoch_on_perturbed_audio(corpus_dir, tmp_path, monkeypatch, model, cache):
    """The train loader yields x_pitch / x_timbre, gets set_epoch, and the run
    ends in a loadable artifact; validation batches stay clean."""
    seen: dict = {"keys": set(), "epochs": []}
    original = trainer_mod._train_loader

    def spy(*args, **kw):
        loader, sampler = original(*args, **kw)
        ds = loader.dataset
        seen["dataset"] = type(ds)
        set_epoch = ds.set_epoch
        ds.set_epoch = lambda e: (seen["epochs"].append(e), set_epoch(e))
        return loader, sampler

    monkeypatch.setattr(trainer_mod, "_train_loader", spy)
    from disentangle.models import REGISTRY

    cls = REGISTRY[model]
    loss = cls.loss

    def record(self, batch, epoch):
        if self.training:
            seen["keys"] |= set(batch)
        else:
            seen.setdefault("valid_keys", set()).update(batch)
        return loss(self, batch, epoch)

    monkeypatch.setattr(cls, "loss", record)
    artifact = train(config_from_dict(config(model, perturb_cache=cache)), corpus_dir, tmp_path / "run",
                     epochs=2, device="cpu", progress=False)
    assert seen["dataset"] is (PerturbedAudioDataset if cache == 0 else CachedPerturbationDataset)
    assert seen["epochs"] == [0, 1]
    assert {"x", "x_pitch", "x_timbre"} <= seen["keys"]
    assert "x_pitch" not in seen["valid_keys"]
    m = load_model(artifact)
    assert m.name == model and [s.name for s in m.spaces] == ["timbre", "variation", "pitch"]


def test_cached_variants_match_the_on_the_fly_dataset(corpus_dir):
    """Variant k of row i == what PerturbedAudioDataset gives row i in epoch k;
    the cache is written once and reused; each epoch draws among the K."""
    run = config_from_dict(config(perturb_cache=2))
    data = prepare_data(corpus_dir, run.features, run.train.label_columns, progress=False)
    corpus = Corpus(data.corpus.root, list(data.items))
    rows = [int(r) for r in data.splits["train"][:3]]
    v = build_variants(corpus, run.features, rows, 2, seed=0, progress=False)
    assert v.shape == (3, 2, 2, run.features.n_bins, run.features.n_frames) and v.dtype == np.float16
    path = variant_cache_path(corpus, run.features, rows, 2, 0, 7, 2)
    assert path.is_file()
    mtime = path.stat().st_mtime_ns
    assert np.array_equal(build_variants(corpus, run.features, rows, 2, seed=0, progress=False), v)
    assert path.stat().st_mtime_ns == mtime  # read, not recomputed

    fly = PerturbedAudioDataset(corpus, run.features, data.normaliser, data.label_maps, indices=rows)
    for k in range(2):
        fly.set_epoch(k)
        item = fly[1]
        want = data.normaliser(torch.from_numpy(v[1, k].astype(np.float32)))
        assert torch.allclose(item["x_pitch"], want[0], atol=2e-2)  # float16 storage
        assert torch.allclose(item["x_timbre"], want[1], atol=2e-2)

    ds = CachedPerturbationDataset(data.x, data.labels, rows, v, data.normaliser, seed=0)
    drawn = set()
    for epoch in range(8):
        ds.set_epoch(epoch)
        a = ds[0]
        assert torch.equal(a["x"], data.x[rows[0]])
        drawn.add(float(a["x_pitch"].sum()))
        ds.set_epoch(epoch)
        assert torch.equal(ds[0]["x_pitch"], a["x_pitch"])  # same epoch, same draw
    assert len(drawn) == 2


def test_variants_do_not_depend_on_the_worker_count(corpus_dir, monkeypatch):
    run = config_from_dict(config(perturb_cache=2))
    data = prepare_data(corpus_dir, run.features, run.train.label_columns, progress=False)
    corpus = Corpus(data.corpus.root, list(data.items))
    rows = [int(r) for r in data.splits["train"][:4]]
    alone = build_variants(corpus, run.features, rows, 2, seed=0, progress=False)
    variant_cache_path(corpus, run.features, rows, 2, 0, 7, 2).unlink()
    assert np.array_equal(build_variants(corpus, run.features, rows, 2, seed=0, num_workers=2, progress=False),
                          alone)
    # The trainer hands train.cache_workers (else num_workers) to the cache build.
    seen = []

    def stub(corpus, cfg, rows, k, *args, num_workers=0, **kw):
        seen.append(num_workers)
        return np.zeros((len(rows), k, 2, cfg.n_bins, cfg.n_frames), np.float16)

    monkeypatch.setattr("disentangle.training.perturbed.build_variants", stub)
    for workers, want in ((2, 2), (None, 0)):
        cfg = config(perturb_cache=2)
        cfg["train"]["cache_workers"] = workers
        train(config_from_dict(cfg), corpus_dir, corpus_dir.parent / f"run-{workers}", epochs=1, device="cpu",
              progress=False)
        assert seen.pop() == want


def test_hook_reads_settings_from_the_model_config(corpus_dir):
    run = config_from_dict(config(perturb_cache=0, semitones=3, n_effects=1))
    data = prepare_data(corpus_dir, run.features, run.train.label_columns, progress=False)
    from disentangle.configs import registry

    model = registry()[run.model](run.model_config, run.features, data.label_maps)
    ds = perturbed_train_dataset(data, model, seed=5)
    assert isinstance(ds, PerturbedAudioDataset)
    assert (ds.semitones, ds.n_effects, ds.seed, len(ds)) == (3, 1, 5, len(data.splits["train"]))
    assert ds.cfg == FeatureConfig(**FEATURES)


def test_building_variants_leaves_the_global_rng_alone(corpus_dir, tmp_path):
    """A cold variant cache must not shift the training noise of a warm one."""
    run = config_from_dict(config(perturb_cache=2))
    data = prepare_data(corpus_dir, run.features, run.train.label_columns, progress=False)
    corpus = Corpus(data.corpus.root, list(data.items))
    rows = [int(r) for r in data.splits["train"][3:5]]
    torch.manual_seed(7)
    before = torch.get_rng_state().clone()
    for progress in (True, False):  # cold with a bar, then warm without
        build_variants(corpus, run.features, rows, 2, seed=3, progress=progress)
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize("name", ["threefactor-paper", "reentry-paper"])
def test_paper_config_trains_on_raw_log_magnitudes(corpus_dir, tmp_path, name):
    """The -paper configs keep Tanaka's sigma^2 = 0.5, a variance of
    ln-magnitudes, so their features must reach the model unnormalised. The
    recipe, with tiny sizes at the test corpus's 8 kHz, trains an epoch to a
    finite loss on them."""
    run = load_config(name)
    assert (run.model_config.sigma2, run.features.kind, run.features.scale) == (0.5, "stft", "log")
    assert run.features.normalise == "none"
    tiny = [f"model_config.{k}={v}" for k, v in TINY_MODEL.items()]
    small = [f"features.{k}={v}" for k, v in FEATURES.items() if k in ("sample_rate", "n_fft", "hop_length",
                                                                       "n_frames")]
    run = load_config(name, [*tiny, *small, "train.epochs=1", "train.batch_size=4", "train.num_workers=0",
                             "train.evaluate=false"])
    artifact = train(run, corpus_dir, tmp_path / "run", device="cpu", progress=False)
    m = load_model(artifact)
    assert m.normaliser is not None and m.normaliser.mode == "none"
    assert m.config.sigma2 == 0.5
    losses = [v for k, v in m.history[-1].items() if "loss" in k]
    assert losses and all(np.isfinite(losses))
