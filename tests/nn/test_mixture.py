"""Gaussian KL, mixture prior terms, schedules and removers."""
from __future__ import annotations

import math

import torch

from disentangle.nn import LinearRamp, MixturePrior, Removers, gaussian_kl, standard_kl, uniform_kl


def test_gaussian_kl_matches_torch():
    g = torch.Generator().manual_seed(0)
    mu, lv, m = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g), torch.randn(3, generator=g)
    q = torch.distributions.Normal(mu, (0.5 * lv).exp())
    p = torch.distributions.Normal(m, math.exp(-2.0))
    want = torch.distributions.kl_divergence(q, p).sum(-1)
    assert torch.allclose(gaussian_kl(mu, lv, m, -2.0), want, atol=1e-5)
    assert torch.allclose(standard_kl(torch.zeros(2, 4), torch.zeros(2, 4)), torch.zeros(2))


def test_mixture_terms_known_and_unknown():
    prior = MixturePrior(4, 2, logstd=0.0)
    with torch.no_grad():
        prior.means.copy_(torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]]))
    mean = prior.means.detach().clone()
    logvar = torch.zeros_like(mean)
    labels = torch.tensor([0, 1, -1, -1])
    t = prior.elbo_terms(mean, logvar, mean, labels)
    assert torch.allclose(t["kl_z"][:2], torch.zeros(2), atol=1e-6)  # on its own component
    assert (t["kl_y"][:2] == 0).all()
    # unknown items sitting on a component: q(y|x) is nearly one-hot -> KL(q || uniform) ~ log K
    assert torch.allclose(t["kl_y"][2:], torch.full((2,), math.log(4)), atol=1e-3)
    assert t["logits"].argmax(-1).tolist() == [0, 1, 2, 3]


def test_linear_ramp():
    r = LinearRamp(2.0, start=3, length=4)
    assert [r(e) for e in (0, 2, 3, 6, 100)] == [0.0, 0.0, 0.5, 2.0, 2.0]
    assert LinearRamp(1.5)(0) == 1.5


def test_removers_and_uniform_kl():
    assert torch.allclose(uniform_kl(torch.zeros(3, 5)), torch.zeros(3), atol=1e-6)
    assert (uniform_kl(torch.tensor([[10.0, 0.0, 0.0]])) > 0).all()
    rem = Removers({"p": ("pitch", 5, ["a", "b"])}, {"a": 2, "b": 3})
    logits = rem({"a": torch.randn(4, 2), "b": torch.randn(4, 3)})
    assert logits["p"].shape == (4, 5)
    ce = rem.ce(logits, {"pitch": torch.tensor([0, 1, -1, 4])})
    assert ce["p"].ndim == 0 and torch.isfinite(ce["p"])
    none = rem.ce(logits, {"pitch": torch.full((4,), -1)})
    assert none["p"].item() == 0.0


def test_ema_update_moves_only_seen_classes_towards_their_average():
    prior = MixturePrior(3, 2)
    with torch.no_grad():
        prior.means.zero_()
    mean = torch.tensor([[2.0, 0.0], [4.0, 0.0], [0.0, 6.0]])
    resp = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    prior.ema_update(mean, resp, momentum=0.5)
    # class 0: two items -> step 1 - 0.5^2 = 0.75 towards their average (3, 0)
    assert torch.allclose(prior.means[0], torch.tensor([2.25, 0.0]))
    assert torch.allclose(prior.means[1], torch.tensor([0.0, 3.0]))
    assert torch.equal(prior.means[2], torch.zeros(2))  # unseen: untouched
    for _ in range(60):  # repeated batches converge on the class averages
        prior.ema_update(mean, resp, momentum=0.5)
    assert torch.allclose(prior.means[:2], torch.tensor([[3.0, 0.0], [0.0, 6.0]]), atol=1e-4)
