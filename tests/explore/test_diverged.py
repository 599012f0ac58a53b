"""A diverged checkpoint (NaN weights or latents) is skipped with one line; the rest are served."""
from __future__ import annotations

import pytest
import torch

from disentangle import load_model
from disentangle.checkpoint import load_checkpoint, save_dict
from disentangle.explore.explorer import Explorer
from disentangle.explore.projection import ProjectionParams
from disentangle.interface import Interface

PCA = ProjectionParams("pca")


def diverged_copy(ckpt, out):
    d = load_checkpoint(ckpt)
    name = next(k for k, v in d["state_dict"].items() if v.is_floating_point())
    d["state_dict"][name] = torch.full_like(d["state_dict"][name], float("nan"))
    save_dict(out, d)
    return out


def test_nan_weights_are_skipped_and_the_rest_served(world, tmp_path):
    corpus, ckpt = world
    models = {"good": load_model(ckpt), "nan": load_model(diverged_copy(ckpt, tmp_path / "nan.pt"))}
    said = []
    ex = Explorer(models, corpus, cache_root=tmp_path / "cache").build(None, PCA, say=said.append)
    assert ex.model_names == ["good"] and list(ex.skipped) == ["nan"]
    assert len(said) == 1 and said[0].startswith("skipping checkpoint nan:") and "not finite" in said[0]
    assert ex.projection("good", ex.space_names("good")[0], PCA).coords.shape[0] == len(corpus)


def test_non_finite_latents_are_skipped_and_not_cached(world, tmp_path, monkeypatch):
    corpus, ckpt = world
    real = Interface.encode

    def nan_encode(self, x, progress=None):
        z = real(self, x, progress=progress)
        return {k: v.clone().fill_(float("inf")) if self.model is models["bad"] else v for k, v in z.items()}

    models = {"good": load_model(ckpt), "bad": load_model(ckpt)}
    monkeypatch.setattr(Interface, "encode", nan_encode)
    # distinct cache folders: the two models share a checkpoint file, hence a cache key
    said = []
    ex = Explorer({"bad": models["bad"]}, corpus, cache_root=tmp_path / "a")
    with pytest.raises(ValueError, match="none of the checkpoints can be served: bad: latents"):
        ex.build(None, PCA, say=said.append)
    assert said and "latents of" in said[0]
    assert not list((tmp_path / "a").rglob("*.npy"))  # nothing cached for the bad model
    ok = Explorer({"good": models["good"]}, corpus, cache_root=tmp_path / "b").build(None, PCA, say=said.append)
    assert ok.model_names == ["good"] and not ok.skipped
