"""Checks every model must pass, written once for all of them."""
from __future__ import annotations

import math
from dataclasses import asdict

import torch

from disentangle.models import REGISTRY, DisentangleModel


def check_shapes(model: DisentangleModel, batch: dict) -> None:
    model.eval()
    x = batch["x"]
    with torch.no_grad():
        post = model.encode(x)
        assert [s.name for s in model.spaces] == list(post)
        for s in model.spaces:
            assert post[s.name].mean.shape == (x.shape[0], s.size)
            assert post[s.name].logvar.shape == (x.shape[0], s.size)
        out = model.decode({k: p.mean for k, p in post.items()})
    assert out.shape == x.shape
    assert out.abs().max() <= 1.0
    for name, comp in model.priors().items():
        s = model.space(name)
        assert comp.means.shape == (len(model.label_maps[s.label]), s.size)
        assert comp.stds.shape == comp.means.shape
        assert comp.labels == model.label_maps[s.label]


def check_train_step(model: DisentangleModel, batch: dict, epoch: int = 0) -> dict[str, float]:
    model.train()
    opts = model.make_optimizers(1e-3)
    before = [p.detach().clone() for p in model.parameters()]
    logs = model.train_step(batch, opts, epoch, grad_clip=1.0)
    assert "loss" in logs
    for k, v in logs.items():
        assert math.isfinite(v), f"{k} is {v}"
    for p in model.parameters():
        assert torch.isfinite(p).all()
    changed = sum(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert changed > 0
    return logs


def check_rebuild(model: DisentangleModel, batch: dict) -> None:
    """A model rebuilt from its config as a plain dict + state dict gives identical outputs."""
    cls = REGISTRY[model.name]
    config = cls.config_class(**asdict(model.config))
    twin = cls(config, model.features, model.label_maps)
    twin.load_state_dict(model.state_dict())
    model.eval()
    twin.eval()
    with torch.no_grad():
        a, b = model.encode(batch["x"]), twin.encode(batch["x"])
        for k in a:
            assert torch.equal(a[k].mean, b[k].mean)
        za = {k: p.mean for k, p in a.items()}
        assert torch.equal(model.decode(za), twin.decode(za))
