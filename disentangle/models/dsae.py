"""DSAE, TS-DSAE and J-DSAE: unsupervised timbre (global v) / pitch (local z_1:T) models.

Luo, Ewert & Dixon 2024 ("Jacobian DSAE") and the TS-DSAE it builds on. One
architecture (see `dsae_nets`): q(v|x) from time-averaged frame features,
factorised q(z_t|x_t), an LSTM prior p(z_t|z_<t), a factorised or
autoregressive decoder on [z_t, v]. Per item:

Inputs are standardised per band inside the model (statistics of the first
training batch, then fixed; `standardise`), and the decoder predicts in those
units: raw log-mel spans about -11.5..2 and saturates the first tanh layer
(measured on data/phrases: 68 % of its pre-activations beyond +/-2, and stage 1
stalled at the global mean spectrum). The loss stays in feature units.

  recon  = sum over frequency of the squared error, averaged over frames
  kl/pitch  = KL(q(z_t|x_t) || p(z_t|z_<t)), summed over dims, averaged over frames
  kl/timbre = KL(q(v|x) || N(0, I)), or KL(q(v|x) || q_C(v|x)) in stage 2

Two stages (`teacher_epochs` = C; 0 = the plain one-stage DSAE):
  stage 1 (epochs < C): the local branch (z encoder and prior) is frozen and
    z is zeroed in the decoder, so everything the decoder gets goes through v:
    the teacher (Eq. 9).
  stage 2 (epochs >= C): on the first training step of epoch C the v encoder
    (and, for J-DSAE, the decoder) are copied into frozen teacher modules;
    KL to the frozen q_C(v|x) replaces the N(0, I) prior. The copies live in
    the state dict with a `teacher_ready` flag, so a checkpoint taken before
    or after C resumes correctly.
Variants (the registry name in every checkpoint says which one):
  "dsae"   the ELBO only;
  "tsdsae" + the four swap terms of Eqs. 2-5 (weight `swap_weight`);
  "jdsae"  + the Jacobian term of Eq. 8 instead (weight `jacobian_weight`).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import ClassVar, Literal, TypeVar

import torch
from torch import Tensor, nn

from disentangle.features.config import FeatureConfig
from disentangle.models.base import DisentangleModel, LatentSpace, ModelConfig, Posterior, register
from disentangle.models.dsae_nets import (
    AutoregressiveDecoder,
    FactorisedDecoder,
    FrameStandardiser,
    GlobalEncoder,
    LocalEncoder,
    LSTMPrior,
    posterior_kl,
    random_pairing,
)

#: Added to the "select/loss" term (the negative ELBO of the stage) during stage 1. Checkpoint selection and early
#: stopping (train.monitor: select/loss) then rank every stage-2 epoch above
#: every stage-1 epoch (a stage-1 model never uses z) while stage-1 epochs still
#: improve on each other, so patience does not run out at the switch.
STAGE_ONE_OFFSET = 1e6


@dataclass
class DSAEConfig(ModelConfig):
    """Architecture and loss settings of the DSAE family (TS-DSAE paper values as defaults).

    global_dim, local_dim: Dv and Dz. hidden: units of every frame-wise tanh
    MLP (both encoders and the decoder). prior_hidden/prior_layers: the LSTM
    prior. decoder: "factorised" prod_t p(x_t|z_t, v) or "autoregressive"
    prod_t p(x_t|x_<t, z_<=t, v); decoder_state: its LSTM cell size.
    teacher_epochs: C, the length of stage 1 (0 = no stage 1, the plain DSAE).
    standardise: per-band input standardisation fitted on the first training
    batch (see the module docstring); the loss is unaffected.
    """

    global_dim: int = 16
    local_dim: int = 32
    hidden: tuple[int, ...] = (64, 64)
    prior_hidden: int = 32
    prior_layers: int = 2
    decoder: Literal["factorised", "autoregressive"] = "factorised"
    decoder_state: int = 64
    teacher_epochs: int = 300
    recon_weight: float = 1.0
    kl_local_weight: float = 1.0
    kl_global_weight: float = 1.0
    swap_weight: float = 1.0       # TS-DSAE only
    jacobian_weight: float = 1.0   # J-DSAE only
    global_label: str = "instrument"
    local_label: str = "pitch"
    standardise: bool = True


M = TypeVar("M", bound=nn.Module)


@register
class DSAE(DisentangleModel[DSAEConfig]):
    """Disentangled sequential autoencoder; spaces "timbre" (global v) and "pitch" (local z_1:T)."""

    teacher_ready: Tensor  # buffer: the teachers hold the stage-1 weights

    name = "dsae"
    config_class = DSAEConfig
    #: "none" (DSAE), "swap" (TS-DSAE) or "jacobian" (J-DSAE).
    regulariser: ClassVar[str] = "none"

    def __init__(self, config: DSAEConfig, features: FeatureConfig, label_maps: dict[str, list[str]]):
        super().__init__(config, features, label_maps)
        cfg = config
        if cfg.decoder not in ("factorised", "autoregressive"):
            raise ValueError(f"decoder must be 'factorised' or 'autoregressive', not {cfg.decoder!r}")
        if cfg.teacher_epochs < 0:
            raise ValueError(f"teacher_epochs must be >= 0, got {cfg.teacher_epochs}")
        if self.regulariser == "jacobian" and cfg.teacher_epochs == 0:
            raise ValueError("jdsae needs a teacher: set teacher_epochs (C) > 0")
        if not cfg.hidden:
            raise ValueError("hidden must list at least one layer size")
        torch.manual_seed(cfg.seed)
        f, hidden = features.n_bins, tuple(cfg.hidden)
        self.scaler = FrameStandardiser(f) if cfg.standardise else None
        self.global_encoder = GlobalEncoder(f, hidden, cfg.global_dim)
        self.local_encoder = LocalEncoder(f, hidden, cfg.local_dim)
        self.prior = LSTMPrior(cfg.local_dim, cfg.prior_hidden, cfg.prior_layers)
        if cfg.decoder == "factorised":
            self.decoder: nn.Module = FactorisedDecoder(f, cfg.local_dim, cfg.global_dim, hidden)
        else:
            self.decoder = AutoregressiveDecoder(f, cfg.local_dim, cfg.global_dim, hidden,
                                                 cfg.decoder_state)
        # Frozen teacher copies exist from the start so the state dict has the
        # same keys before and after C; they are filled at C.
        self.teacher_encoder: GlobalEncoder | None = None
        self.teacher_decoder: nn.Module | None = None
        if cfg.teacher_epochs > 0:
            self.teacher_encoder = _frozen_copy(self.global_encoder)
            if self.regulariser == "jacobian":
                self.teacher_decoder = _frozen_copy(self.decoder)
        self.register_buffer("teacher_ready", torch.zeros((), dtype=torch.bool))

    # --- interface ---------------------------------------------------------
    @property
    def spaces(self) -> tuple[LatentSpace, ...]:
        return (LatentSpace("timbre", self.config.global_dim, "global", self.config.global_label),
                LatentSpace("pitch", self.config.local_dim, "local", self.config.local_label))

    @property
    def local_enabled(self) -> bool:
        """Whether the decoder uses z: always without stage 1, else once the teacher is copied."""
        return self.config.teacher_epochs == 0 or bool(self.teacher_ready)

    @property
    def stage(self) -> int:
        """1 while the model is still the teacher (z masked), 2 afterwards."""
        return 2 if self.local_enabled else 1

    def encode(self, x: Tensor) -> dict[str, Posterior]:
        """x: (B, F, T) -> {"timbre": (B, Dv), "pitch": (B, T, Dz)} posteriors."""
        frames = self._scale(x.transpose(1, 2))
        return {"timbre": self.global_encoder(frames), "pitch": self.local_encoder(frames)}

    def decode(self, z: dict[str, Tensor]) -> Tensor:
        """{"timbre": (B, Dv), "pitch": (B, T, Dz)} -> (B, F, T).

        Before stage 2 the model is the teacher D_T(v) = p(x|0, v): z is ignored.
        """
        return self._decode(z["pitch"], z["timbre"]).transpose(1, 2)

    def sample_local(self, batch: int, frames: int | None = None, temperature: float = 1.0) -> Tensor:
        """z_1:T from the LSTM prior: -> (batch, frames, Dz) (frames defaults to the input length)."""
        return self.prior.sample(batch, frames or self.features.n_frames, temperature)

    def describe(self) -> dict:
        out = super().describe()
        out.update(variant=self.name, decoder=self.config.decoder, stage=self.stage,
                   teacher_epochs=self.config.teacher_epochs)
        return out

    # --- stages -------------------------------------------------------------
    def start_student(self) -> None:
        """Copy the current v encoder (and decoder, for J-DSAE) into the frozen teacher."""
        if self.teacher_encoder is None:
            raise RuntimeError(f"{self.name}: teacher_epochs is 0, there is no teacher to start")
        self.teacher_encoder.load_state_dict(self.global_encoder.state_dict())
        if self.teacher_decoder is not None:
            self.teacher_decoder.load_state_dict(self.decoder.state_dict())
        self.teacher_ready.fill_(True)

    def _scale(self, frames: Tensor) -> Tensor:
        """Feature frames (B, T, F) -> what the encoders read (standardised)."""
        return self.scaler(frames) if self.scaler is not None else frames

    def _unscale(self, out: Tensor) -> Tensor:
        """Decoder output (B, T, F) -> feature units."""
        return self.scaler.inverse(out) if self.scaler is not None else out

    def _decode(self, z: Tensor, v: Tensor) -> Tensor:
        """(B, T, Dz), (B, Dv) -> feature frames (B, T, F); z masked while in stage 1."""
        return self._unscale(self.decoder(z if self.local_enabled else torch.zeros_like(z), v))

    def _teacher_decode(self, v: Tensor, frames: int) -> Tensor:
        """D_T(v) = p_thetaC(x|0, v): (B, Dv) -> feature frames (B, T, F), without gradients."""
        z = v.new_zeros(v.shape[0], frames, self.config.local_dim)
        if self.teacher_decoder is None:
            raise RuntimeError("the teacher decoder exists only with the Jacobian regulariser and teacher_epochs > 0")
        if isinstance(self.teacher_decoder, FactorisedDecoder):
            # With z = 0 a factorised decoder gives the same frame everywhere: decode one.
            return self._unscale(self.teacher_decoder(z[:, :1], v)).expand(-1, frames, -1)
        return self._unscale(self.teacher_decoder(z, v))

    # --- training -----------------------------------------------------------
    def loss(self, batch: dict, epoch: int) -> dict[str, Tensor]:
        """Negative ELBO of the current stage plus the variant's regulariser.

        batch["x"]: (B, F, T). Terms are per-item means over the batch.
        """
        cfg = self.config
        if (self.teacher_encoder is not None and epoch >= cfg.teacher_epochs
                and not bool(self.teacher_ready) and self.training):
            self.start_student()  # first training step of epoch C
        frames = batch["x"].transpose(1, 2)                  # (B, T, F)
        if self.scaler is not None and not bool(self.scaler.ready) and self.training:
            self.scaler.fit(frames)
        student = self.local_enabled
        inputs = self._scale(frames)

        q_v = self.global_encoder(inputs)
        v = q_v.sample()
        with torch.set_grad_enabled(student and torch.is_grad_enabled()):
            # Frozen in stage 1: KL_z is still reported, but nothing local learns.
            q_z = self.local_encoder(inputs)
            z = q_z.sample()
            kl_z = posterior_kl(q_z, self.prior(z))
        x_hat = self._decode(z, v)
        recon = ((x_hat - frames) ** 2).sum(-1).mean(-1)
        if student and self.teacher_encoder is not None:
            with torch.no_grad():
                q_teacher = self.teacher_encoder(inputs)
            kl_v = posterior_kl(q_v, q_teacher)
        else:
            kl_v = posterior_kl(q_v, Posterior(torch.zeros_like(q_v.mean), torch.zeros_like(q_v.logvar)))
            q_teacher = None
        t = {"recon/mse": recon.mean(), "kl/pitch": kl_z.mean(), "kl/timbre": kl_v.mean()}
        loss = cfg.recon_weight * t["recon/mse"] + cfg.kl_global_weight * t["kl/timbre"]
        if student:
            loss = loss + cfg.kl_local_weight * t["kl/pitch"]
        elbo = loss.detach()
        if student:
            if self.regulariser == "swap":
                swaps = self.swap_terms(frames, q_v, q_z, v, z)
                t.update(swaps)
                loss = loss + cfg.swap_weight * sum(swaps.values())
            elif self.regulariser == "jacobian":
                t["jacobian/delta"] = self.jacobian_term(q_teacher, v, z, x_hat)
                loss = loss + cfg.jacobian_weight * t["jacobian/delta"]
        t["loss"] = loss
        t["stage"] = loss.new_tensor(float(self.stage))
        # Selection reads the stage's negative ELBO, not the regularisers: TS-DSAE's
        # swap terms grow while z takes over, and picked an early epoch otherwise.
        t["select/loss"] = elbo + (0.0 if student else STAGE_ONE_OFFSET)
        return t

    def swap_terms(self, frames: Tensor, q_v: Posterior, q_z: Posterior, v: Tensor,
                   z: Tensor) -> dict[str, Tensor]:
        """TS-DSAE's Eqs. 2-5 on a random pairing of the batch: {name: scalar}.

        frames (B, T, F); q_v, v (B, Dv); q_z, z (B, T, Dz). x^{v->vj} decodes
        (z, v_j), x^{z->zj} decodes (z_j, v). The posteriors of the real data
        are targets (detached): the terms shape the decoder and what the
        encoders make of generated sequences, while the ELBO keeps fitting the
        posteriors of the data.
        """
        j = random_pairing(frames.shape[0], frames.device)
        x_v = self._decode(z, v[j])              # timbre of x_j, pitch of x
        x_z = self._decode(z[j], v)              # timbre of x, pitch of x_j
        x_v, x_z = self._scale(x_v), self._scale(x_z)
        qv_vswap, qz_vswap = self.global_encoder(x_v), self.local_encoder(x_v)
        qv_zswap, qz_zswap = self.global_encoder(x_z), self.local_encoder(x_z)
        v_own, z_own = _detached(q_v), _detached(q_z)
        v_pair = Posterior(v_own.mean[j], v_own.logvar[j])
        z_pair = Posterior(z_own.mean[j], z_own.logvar[j])
        return {
            "swap/vswap_v": posterior_kl(qv_vswap, v_pair).mean(),   # Eq. 2
            "swap/vswap_z": posterior_kl(qz_vswap, z_own).mean(),    # Eq. 3
            "swap/zswap_v": posterior_kl(qv_zswap, v_own).mean(),    # Eq. 4
            "swap/zswap_z": posterior_kl(qz_zswap, z_pair).mean(),   # Eq. 5
        }

    def jacobian_term(self, q_teacher: Posterior, v: Tensor, z: Tensor, x_hat: Tensor) -> Tensor:
        """The second term of Eq. 8 (the first, KL to the teacher, is kl/timbre): scalar.

        || (D_T(v_T,j) - D_T(v_T)) - (D_S(v_S,j, z) - D_S(v_S, z)) ||^2 with j a
        random pairing, v_T ~ E_T(x), v_S = v ~ E_S(x) and z ~ E_S(x); the
        variation of the output when v moves to the pair's v is a finite-difference
        Jacobian-vector product, so no autograd Jacobian is needed. Summed over
        frequency and averaged over frames like the reconstruction.
        q_teacher: (B, Dv); v (B, Dv); z (B, T, Dz); x_hat = D_S(v, z) (B, T, F).
        """
        b, t = z.shape[0], z.shape[1]
        j = random_pairing(b, z.device)
        with torch.no_grad():
            v_t = q_teacher.sample()
            base = self._teacher_decode(v_t, t)
            delta_teacher = self._teacher_decode(v_t[j], t) - base
        delta_student = self._decode(z, v[j]) - x_hat
        return ((delta_student - delta_teacher) ** 2).sum(-1).mean(-1).mean()


@register
class TSDSAE(DSAE):
    """TS-DSAE: two stages plus the four swap terms (Eqs. 2-5)."""

    name = "tsdsae"
    regulariser = "swap"


@register
class JDSAE(DSAE):
    """J-DSAE: two stages plus the Jacobian constraint of Eq. 8 (no swap terms)."""

    name = "jdsae"
    regulariser = "jacobian"


def _frozen_copy(module: M) -> M:
    twin = copy.deepcopy(module)
    for p in twin.parameters():
        p.requires_grad_(False)
    return twin


def _detached(p: Posterior) -> Posterior:
    return Posterior(p.mean.detach(), p.logvar.detach())


__all__ = ["DSAE", "JDSAE", "STAGE_ONE_OFFSET", "TSDSAE", "DSAEConfig"]
