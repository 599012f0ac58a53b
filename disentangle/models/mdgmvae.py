"""MD-GMVAE (Dal Ri et al. 2025): timbre, pitch, dynamics and duration spaces, and the MD-VAE baseline.

A shared conv trunk feeds one variational sub-encoder per descriptor, each
with kernels shaped to what it should capture; the decoder reads all latents
concatenated. Per descriptor xi with label y:
  z_xi = tanh(mu + sigma * eps)         (bounded codes, as in the reference)
  prior p(u_xi | y) = N(m_y, I)         trainable means, unit variance, on the
                                        pre-tanh u = mu + sigma * eps
  classifier C_xi(z_xi) -> y            cross-entropy x classifier_weight
  remover R_xi(z_others, detached) -> y own Adam, cross-entropy x remover_weight
Loss = recon_weight * (MSE + Huber) + beta(epoch) * sum KL + classifier CE
       + lambda(epoch) * sum KL(uniform || R_xi(z_others))
beta ramps linearly; lambda starts at `adversarial_start` and ramps to a
bounded `adversarial_weight` (the reference's grew without limit).
`prior="isotropic"` is the MD-VAE baseline: N(0, I) on every u_xi.

`encode` returns, per space, Posterior(mean=tanh(mu), logvar=logvar of u):
the mean is the noise-free code the decoder expects; the log-variance is that
of the Gaussian before the tanh.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from disentangle.features.config import FeatureConfig
from disentangle.models.adversarial import RemoverTrainingMixin
from disentangle.models.base import DisentangleModel, LatentSpace, ModelConfig, Posterior, PriorComponents, register
from disentangle.models.mdgmvae_nets import Decoder, SubEncoder, Trunk
from disentangle.nn import LinearRamp, MixturePrior, Removers, mlp, standard_kl

#: descriptor -> (label column, kernel shape of its sub-encoder)
DESCRIPTORS: dict[str, tuple[str, str]] = {
    "timbre": ("instrument", "square"),
    "pitch": ("pitch", "freq"),
    "dynamics": ("dynamics", "time"),
    "duration": ("duration", "time"),
}


@dataclass
class MDGMVAEConfig(ModelConfig):
    """Architecture and loss settings of `MDGMVAE` (paper values as defaults)."""

    descriptors: tuple[str, ...] = ("timbre", "pitch", "dynamics", "duration")
    timbre_dim: int = 8
    pitch_dim: int = 4
    dynamics_dim: int = 4
    duration_dim: int = 4
    width: int = 32              # trunk base channels (32 -> 64|64 -> 256 -> 512)
    sub_channels: int = 64       # channels of each sub-encoder's shaped conv
    head_hidden: int = 128
    decoder_hidden: int = 512
    dropout: float = 0.1
    freq_strides: tuple[int, ...] = (2, 2, 2)  # trunk frequency strides (paper: 2, 2, 2)
    prior: Literal["gmm", "isotropic"] = "gmm"
    prior_logstd: float = 0.0    # unit variance
    recon_weight: float = 10.0
    huber_weight: float = 1.0    # Huber added to the MSE inside the reconstruction term
    kl_weight: float = 0.0025
    beta_start: int = 0
    beta_ramp_epochs: int = 100
    classifier_weight: float = 0.25
    removers: bool = True
    remover_weight: float = 0.025
    remover_lr: float | None = None
    adversarial_weight: float = 0.025  # bounded final lambda
    adversarial_start: int = 200
    adversarial_ramp: int = 100
    # Level invariance (not in the paper): with `train.gain_view_db`, the batch
    # at a random gain must give these spaces the codes of the batch as
    # recorded (MSE of the pre-tanh means, the recorded side detached) x view_weight.
    view_weight: float = 0.0
    view_spaces: tuple[str, ...] = ("timbre", "pitch", "duration")


@register
class MDGMVAE(RemoverTrainingMixin, DisentangleModel[MDGMVAEConfig]):
    """Four-descriptor model; one global space per descriptor, labelled by its column."""

    name = "mdgmvae"
    config_class = MDGMVAEConfig

    def __init__(self, config: MDGMVAEConfig, features: FeatureConfig, label_maps: dict[str, list[str]]):
        super().__init__(config, features, label_maps)
        cfg = config
        self.descriptors = tuple(cfg.descriptors)
        for d in self.descriptors:
            if d not in DESCRIPTORS:
                raise ValueError(f"unknown descriptor {d!r}; known: {list(DESCRIPTORS)}")
            col = DESCRIPTORS[d][0]
            if not label_maps.get(col):
                raise ValueError(f"MD-GMVAE descriptor {d!r} needs classes for label {col!r}; "
                                 f"label_maps has { {k: len(v) for k, v in label_maps.items()} }")
        if cfg.view_weight > 0:
            unknown = [v for v in cfg.view_spaces if v not in self.descriptors]
            if unknown:
                raise ValueError(f"view_spaces {unknown} are not among the descriptors {list(self.descriptors)}")
        torch.manual_seed(cfg.seed)
        self.dims = {d: int(getattr(cfg, f"{d}_dim")) for d in self.descriptors}
        self.columns = {d: DESCRIPTORS[d][0] for d in self.descriptors}
        self.n_classes = {d: len(label_maps[self.columns[d]]) for d in self.descriptors}
        n_bins, n_frames = features.n_bins, features.n_frames
        self.trunk = Trunk(cfg.width, cfg.dropout, tuple(cfg.freq_strides))
        fh, ft = Trunk.out_size(n_bins, self.trunk.freq_strides), Trunk.out_size(n_frames)
        self.encoders = nn.ModuleDict({
            d: SubEncoder(DESCRIPTORS[d][1], self.trunk.out_channels, fh, ft, cfg.sub_channels,
                          cfg.head_hidden, self.dims[d]) for d in self.descriptors})
        self.decoder = Decoder(sum(self.dims.values()), n_bins, n_frames, cfg.width, cfg.decoder_hidden)
        for m in self.modules():  # Xavier on the encoder's and decoder's linear layers
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        for enc in self.encoders.values():  # unit posterior variance at the start (see GMVAE)
            head = enc.get_submodule("head")
            assert isinstance(head, nn.Linear)
            nn.init.zeros_(head.weight[head.out_features // 2:])
        if cfg.prior not in ("gmm", "isotropic"):
            raise ValueError(f"prior must be 'gmm' or 'isotropic', not {cfg.prior!r}")
        self.prior_means: nn.ModuleDict | None = nn.ModuleDict({
            d: MixturePrior(self.n_classes[d], self.dims[d], cfg.prior_logstd) for d in self.descriptors
        }) if cfg.prior == "gmm" else None
        self.classifiers = nn.ModuleDict({
            d: mlp([self.dims[d], 64, self.n_classes[d]]) for d in self.descriptors})
        for m in self.classifiers.modules():  # Kaiming for the MLP heads, as the reference
            if isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, nonlinearity="leaky_relu")
        self.removers: Removers | None = None
        self._remover_inputs = self._remover_labels = None
        if cfg.removers and len(self.descriptors) > 1:
            self.removers = Removers(
                {d: (self.columns[d], self.n_classes[d], [o for o in self.descriptors if o != d])
                 for d in self.descriptors}, self.dims)
        self.beta = LinearRamp(cfg.kl_weight, cfg.beta_start, cfg.beta_ramp_epochs)
        self.adversary = LinearRamp(cfg.adversarial_weight, cfg.adversarial_start, cfg.adversarial_ramp)

    @property
    def spaces(self) -> tuple[LatentSpace, ...]:
        return tuple(LatentSpace(d, self.dims[d], "global", self.columns[d]) for d in self.descriptors)

    def _encode_raw(self, x: Tensor) -> dict[str, tuple[Tensor, Tensor]]:
        """x: (B, F, T) -> {descriptor: (mu, logvar)} of the pre-tanh Gaussian, each (B, D)."""
        h = self.trunk(x.unsqueeze(1))
        return {d: enc(h) for d, enc in self.encoders.items()}

    def encode(self, x: Tensor) -> dict[str, Posterior]:
        """x: (B, F, T) -> {descriptor: Posterior(mean=tanh(mu) (B, D), logvar (B, D))}."""
        return {d: Posterior(torch.tanh(mu), lv) for d, (mu, lv) in self._encode_raw(x).items()}

    def decode(self, z: dict[str, Tensor]) -> Tensor:
        """{descriptor: (B, D) codes in (-1, 1)} -> (B, F, T) in [-1, 1]."""
        return self.decoder(torch.cat([z[d] for d in self.descriptors], dim=-1))

    def priors(self) -> dict[str, PriorComponents]:
        """Class components mapped through the tanh: means tanh(m_y), stds (1 - tanh(m_y)^2)
        (the delta-method spread of tanh(u) for u ~ N(m_y, 1)). Empty for the MD-VAE."""
        if self.prior_means is None:
            return {}
        out = {}
        for d, module in self.prior_means.items():
            prior = cast(MixturePrior, module)
            m = torch.tanh(prior.means.detach())
            std = (1.0 - m ** 2) * float(torch.tensor(prior.logstd).exp())
            out[d] = PriorComponents(m.clone(), std, list(self.label_maps[self.columns[d]]))
        return out

    def _view_loss(self, batch: dict, raw: dict[str, tuple[Tensor, Tensor]],
                   t: dict[str, Tensor]) -> Tensor | None:
        """Mean over `view_spaces` of MSE(mu(x_view), mu(x) detached), or None when off.

        batch["x_view"]: (B, F, T), the batch at other levels (`RandomGain`);
        only training batches carry it.
        """
        cfg = self.config
        spaces = cfg.view_spaces  # checked against the descriptors in __init__
        if cfg.view_weight <= 0 or "x_view" not in batch or not spaces:
            return None
        view = self._encode_raw(batch["x_view"])
        terms = [F.mse_loss(view[d][0], raw[d][0].detach()) for d in spaces]
        for d, v in zip(spaces, terms):
            t[f"view/{d}"] = v
        return torch.stack(terms).mean()

    def loss(self, batch: dict, epoch: int) -> dict[str, Tensor]:
        """Negative ELBO + classifier CE + bounded adversarial term; batch as in `DisentangleModel.loss`."""
        cfg = self.config
        x = batch["x"]
        b = x.shape[0]
        missing = torch.full((b,), -1, dtype=torch.long, device=x.device)
        labels = {d: batch["labels"].get(self.columns[d], missing).to(x.device) for d in self.descriptors}
        raw = self._encode_raw(x)
        z: dict[str, Tensor] = {}
        t: dict[str, Tensor] = {}
        kl_total = x.new_zeros(())
        ce_total = x.new_zeros(())
        for d, (mu, logvar) in raw.items():
            u = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
            z[d] = torch.tanh(u)
            y = labels[d]
            if self.prior_means is not None:
                terms = cast(MixturePrior, self.prior_means[d]).elbo_terms(mu, logvar, u, y)
                kl = (terms["kl_z"] + terms["kl_y"]).mean()
            else:
                kl = standard_kl(mu, logvar).mean()
            t[f"kl/{d}"] = kl
            kl_total = kl_total + kl
            known = y >= 0
            logits = self.classifiers[d](z[d])
            ce = F.cross_entropy(logits[known], y[known]) if known.any() else x.sum() * 0.0
            t[f"ce/{d}"] = ce
            ce_total = ce_total + ce
            with torch.no_grad():
                t[f"acc/{d}"] = ((logits.argmax(-1) == y).float()[known].mean()
                                 if known.any() else x.new_zeros(()))
        loss_view = self._view_loss(batch, raw, t)
        x_hat = self.decode(z)
        mse = F.mse_loss(x_hat, x)
        huber = F.huber_loss(x_hat, x)
        t["recon/mse"], t["recon/huber"] = mse, huber
        beta = self.beta(epoch)
        loss = (cfg.recon_weight * (mse + cfg.huber_weight * huber) + beta * kl_total
                + cfg.classifier_weight * ce_total)
        t["kl/beta"] = x.new_tensor(beta)
        if loss_view is not None:
            loss = loss + cfg.view_weight * loss_view
        if self.removers is not None:
            self._remover_inputs, self._remover_labels = z, {self.columns[d]: labels[d] for d in self.descriptors}
            logits = self.removers(z)
            lam = self.adversary(epoch)
            conf = self.removers.confusion(logits, self._remover_labels)
            for d, v in conf.items():
                t[f"adv/{d}"] = v
            with torch.no_grad():
                # how well the removers currently read each label from the other spaces
                for d, v in self.removers.ce(logits, self._remover_labels).items():
                    t[f"remover/{d}"] = v
            t["adv/weight"] = x.new_tensor(lam)
            if lam > 0:
                loss = loss + lam * sum(conf.values())
        t["loss"] = loss
        return t
