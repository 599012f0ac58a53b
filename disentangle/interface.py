"""Audio <-> latents <-> audio for any `DisentangleModel`: the glue behind the app.

`Interface(model)` turns audio into normalised features, features into latent
means per space, latents back into features and audio (Griffin-Lim), and
implements the latent-space operations of the explorer: per-dimension sweeps,
interpolation (all spaces or one), swaps between two items, moving a space
toward a mixture component or class mean (Luo 2019, Sec. 4.4) and sampling
from mixture components. It only uses the common model interface (`spaces`,
`encode`, `decode`, `priors()`, `features`, `normaliser`), never a model class.

Latents are dicts {space name: Tensor}; global spaces hold (B, D), local
(sequence-level) spaces (B, T', D). All methods run under
`torch.inference_mode()`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from disentangle.models.base import DisentangleModel, LatentSpace, PriorComponents

Latents = dict[str, Tensor]


def _gpu_decorator() -> Callable:
    """`spaces.GPU` on Hugging Face ZeroGPU, the identity everywhere else."""
    try:  # pragma: no cover - only present on Hugging Face Spaces
        import spaces

        return spaces.GPU
    except ImportError:
        return lambda fn: fn


gpu = _gpu_decorator()


@gpu
def _griffin_lim_audio(features: Tensor, cfg, normaliser, n_iter: int, device: str | None) -> np.ndarray:
    """Normalised features (B, F, T) -> audio (B, N) float32 via Griffin-Lim.

    Separate from `Interface` so that ZeroGPU can wrap exactly the GPU work.
    """
    from disentangle.audio.griffinlim import griffin_lim
    from disentangle.features.spectrogram import features_to_magnitude

    scaled = normaliser.inverse(features) if normaliser is not None else features
    magnitude = features_to_magnitude(scaled, cfg)
    audio = griffin_lim(magnitude, cfg, n_iter=n_iter, device=device)
    return audio.detach().float().cpu().numpy().astype(np.float32, copy=False)


def default_device() -> str:
    """'cuda' when a GPU is visible, else 'cpu'."""
    return "cuda" if torch.cuda.is_available() else "cpu"


class Interface:
    """Audio <-> latents <-> audio for one model.

    model: any `DisentangleModel`; `model.normaliser` (set by
    `disentangle.load_model`) maps scaled features to the model's input range.
    gl_iters: Griffin-Lim iterations for `to_audio` (16-32 keeps clicks fast).
    """

    def __init__(self, model: DisentangleModel, device: str | None = None, gl_iters: int = 32):
        self.model = model.eval()
        self.cfg = model.features
        self.normaliser = model.normaliser
        self.device = device or default_device()
        self.gl_iters = int(gl_iters)
        self._shapes: dict[str, tuple[int, ...]] | None = None
        #: A fixed gain (never per clip) applied by `to_audio`. 1 keeps the level
        #: the features encode; models whose features discard loudness
        #: (`amplitude="mean_one"`) get a corpus-typical gain instead, see
        #: `estimate_playback_gain`.
        self.playback_gain = 1.0

    # --- descriptions ---------------------------------------------------
    @property
    def spaces(self) -> tuple[LatentSpace, ...]:
        return tuple(self.model.spaces)

    def space(self, name: str) -> LatentSpace:
        return self.model.space(name)

    @property
    def sample_rate(self) -> int:
        return int(self.cfg.sample_rate)

    def latent_shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-item latent shape per space: (D,) global or (T', D) local.

        Found once by encoding a silent input, because T' depends on the
        model's time down-sampling, which the interface does not describe.
        """
        if self._shapes is None:
            z = self.encode(torch.zeros(1, self.cfg.n_bins, self.cfg.n_frames))
            self._shapes = {k: tuple(v.shape[1:]) for k, v in z.items()}
        return self._shapes

    # --- audio <-> features <-> latents ---------------------------------
    def prepare(self, audio: np.ndarray, keep_level: bool = False) -> np.ndarray:
        """Mono audio (N,) at the model's rate -> the clip the model sees (n_samples,).

        keep_level: skip the feature settings' loudness normalisation (for
        playing the original at its recorded level).
        """
        import dataclasses

        from disentangle.features.spectrogram import prepare_audio

        cfg = self.cfg
        if keep_level and getattr(cfg, "amplitude", "none") != "none":
            cfg = dataclasses.replace(cfg, amplitude="none")
        return np.asarray(prepare_audio(np.asarray(audio, dtype=np.float32), cfg), dtype=np.float32)

    def estimate_playback_gain(self, clips: Sequence[np.ndarray]) -> float:
        """For loudness-normalised features: the median ratio of recorded to
        normalised RMS over some raw clips (N,), stored in `playback_gain`."""
        if getattr(self.cfg, "amplitude", "none") == "none" or not clips:
            self.playback_gain = 1.0
            return 1.0
        ratios = []
        for clip in clips:
            raw, norm = self.prepare(clip, keep_level=True), self.prepare(clip)
            r_norm = float(np.sqrt(np.mean(norm ** 2)))
            if r_norm > 1e-8:
                ratios.append(float(np.sqrt(np.mean(raw ** 2))) / r_norm)
        self.playback_gain = float(np.median(ratios)) if ratios else 1.0
        return self.playback_gain

    def features(self, audio: np.ndarray) -> Tensor:
        """Mono audio (N,) at the model's rate -> normalised features (1, F, T)."""
        from disentangle.features.spectrogram import audio_to_features

        clip = self.prepare(audio)
        scaled = audio_to_features(torch.from_numpy(clip), self.cfg)
        return self.normalise(torch.as_tensor(scaled).reshape(1, self.cfg.n_bins, -1))

    def normalise(self, scaled: Tensor) -> Tensor:
        """Scaled features (B, F, T) -> the model's input range (B, F, T)."""
        scaled = torch.as_tensor(scaled, dtype=torch.float32)
        return torch.as_tensor(self.normaliser(scaled)) if self.normaliser is not None else scaled

    @torch.inference_mode()
    def encode(self, x: Tensor, batch_size: int = 256,
               progress: Callable[[float, str], None] | None = None) -> Latents:
        """Normalised features (B, F, T) -> posterior means {space: (B, D) or (B, T', D)}.

        The one batched encoder: batches of `batch_size` bound the memory of a
        corpus-sized x; `progress(fraction, text)` is told after each batch.
        """
        x = torch.as_tensor(x, dtype=torch.float32)
        if x.dim() == 2:
            x = x.unsqueeze(0)
        parts: dict[str, list[Tensor]] = {}
        n = x.shape[0]
        for start in range(0, n, batch_size):
            for name, post in self.model.encode(x[start:start + batch_size]).items():
                parts.setdefault(name, []).append(post.mean.detach().float())
            if progress is not None:
                done = min(n, start + batch_size)
                progress(done / max(n, 1), f"encoding {done}/{n}")
        return {name: torch.cat(chunks) for name, chunks in parts.items()}

    @torch.inference_mode()
    def decode(self, z: Mapping[str, Tensor]) -> Tensor:
        """Latents {space: (B, D) or (B, T', D)} -> normalised features (B, F, T)."""
        return self.model.decode({k: torch.as_tensor(v, dtype=torch.float32) for k, v in z.items()}).float()

    @torch.inference_mode()
    def to_audio(self, features: Tensor, n_iter: int | None = None) -> np.ndarray:
        """Normalised features (B, F, T) or (F, T) -> audio (B, N) float32 at `sample_rate`."""
        features = torch.as_tensor(features, dtype=torch.float32)
        if features.dim() == 2:
            features = features.unsqueeze(0)
        audio = _griffin_lim_audio(features, self.cfg, self.normaliser, n_iter or self.gl_iters, self.device)
        audio = np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0)
        return audio * np.float32(self.playback_gain) if self.playback_gain != 1.0 else audio

    # --- latent operations (each returns latents with a new batch axis) --
    @staticmethod
    def _repeat(z: Mapping[str, Tensor], n: int) -> Latents:
        """Repeat single-item latents {space: (1, ...)} n times -> {space: (n, ...)}."""
        return {k: v[:1].expand(n, *v.shape[1:]).clone() for k, v in z.items()}

    @torch.inference_mode()
    def sweep_latents(self, z: Mapping[str, Tensor], space: str, dim: int,
                      values: Sequence[float]) -> Latents:
        """Set dimension `dim` of `space` to each of `values` (in every frame for local spaces).

        z: one item {space: (1, D) or (1, T', D)} -> {space: (len(values), ...)}.
        """
        size = z[space].shape[-1]
        if not 0 <= dim < size:
            raise ValueError(f"space {space!r} has {size} dimensions; got dimension {dim}")
        out = self._repeat(z, len(values))
        vals = torch.as_tensor(list(values), dtype=out[space].dtype)
        out[space][..., dim] = vals.view(-1, *([1] * (out[space].dim() - 2)))
        return out

    @torch.inference_mode()
    def interpolate_latents(self, za: Mapping[str, Tensor], zb: Mapping[str, Tensor],
                            alphas: Sequence[float], space: str | None = None) -> Latents:
        """(1 - alpha) * A + alpha * B for each alpha (alpha < 0 or > 1 extrapolates).

        space: only this space moves and every other space stays at A; None moves all.
        Returns {space: (len(alphas), ...)}.
        """
        a = torch.as_tensor(list(alphas), dtype=torch.float32)
        out = self._repeat(za, len(a))
        for name in out:
            if space is not None and name != space:
                continue
            w = a.view(-1, *([1] * (za[name].dim() - 1)))
            out[name] = (1 - w) * za[name][:1] + w * zb[name][:1]
        return out

    @torch.inference_mode()
    def swap_latents(self, za: Mapping[str, Tensor], zb: Mapping[str, Tensor], space: str) -> Latents:
        """Everything from A except `space`, which comes from B: {space: (1, ...)}."""
        out = {k: v[:1].clone() for k, v in za.items()}
        if zb[space].shape[1:] != out[space].shape[1:]:
            raise ValueError(f"space {space!r}: shapes differ ({tuple(zb[space].shape)} vs {tuple(out[space].shape)})")
        out[space] = zb[space][:1].clone()
        return out

    @torch.inference_mode()
    def toward_latents(self, z: Mapping[str, Tensor], space: str, target_mean: Tensor,
                       alphas: Sequence[float]) -> Latents:
        """Move `space` from z toward a target (D,) by each alpha: z + alpha * (target - z).

        For a local space the target is applied to every frame. Returns
        {space: (len(alphas), ...)}.
        """
        a = torch.as_tensor(list(alphas), dtype=torch.float32)
        out = self._repeat(z, len(a))
        target = torch.as_tensor(target_mean, dtype=torch.float32).reshape(-1)
        base = z[space][:1]
        w = a.view(-1, *([1] * (base.dim() - 1)))
        out[space] = base + w * (target - base)
        return out

    def prior(self, space: str) -> PriorComponents | None:
        """The mixture components of `space`, or None for a plain N(0, I) prior."""
        return self.model.priors().get(space)

    def prior_std(self, space: str) -> Tensor:
        """Marginal standard deviation per dimension (D,) of the space's prior.

        For a mixture with equal weights: var = mean_k(std_k^2) + var_k(mean_k),
        so a sweep "in prior standard deviations" spans the whole mixture.
        """
        comps = self.prior(space)
        if comps is None:
            return torch.ones(self.latent_shapes()[space][-1])
        var = (comps.stds.float() ** 2).mean(0) + comps.means.float().var(0, unbiased=False)
        return var.sqrt()

    @torch.inference_mode()
    def sample_latents(self, components: Mapping[str, int | None], w: float = 1.0, n: int = 1,
                       seed: int | None = None) -> Latents:
        """Sample n latents {space: (n, ...)}.

        components: space -> mixture component index, or None to sample from
        the whole prior (a uniformly chosen component for mixtures, N(0, I)
        otherwise). Spaces not named are sampled from the whole prior.
        z = mean + w * std * eps, so w = 0 gives the component means. Local
        spaces draw independent frames around the same mean.
        """
        gen = torch.Generator().manual_seed(int(seed)) if seed is not None else None
        out: Latents = {}
        for name, shape in self.latent_shapes().items():
            comps = self.prior(name)
            index = components.get(name)
            if comps is None:
                mean = torch.zeros(n, shape[-1])
                std = torch.ones(n, shape[-1])
            else:
                k = comps.means.shape[0]
                if index is None:
                    idx = torch.randint(0, k, (n,), generator=gen)
                else:
                    if not 0 <= int(index) < k:
                        raise ValueError(f"space {name!r} has {k} components; got component {index}")
                    idx = torch.full((n,), int(index))
                mean = comps.means.float()[idx]
                std = comps.stds.float()[idx]
            if len(shape) == 2:  # local: (T', D) per item
                mean = mean[:, None, :].expand(n, shape[0], shape[1])
                std = std[:, None, :].expand(n, shape[0], shape[1])
            eps = torch.randn(mean.shape, generator=gen)
            out[name] = mean + float(w) * std * eps
        return out

    @torch.inference_mode()
    def grid_latents(self, z: Mapping[str, Tensor], space: str, dims: tuple[int, int],
                     values: Sequence[float]) -> Latents:
        """A len(values) x len(values) grid over two dims of `space`, rows over dims[1].

        Returns {space: (len(values) ** 2, ...)}, row-major (y outer, x inner).
        """
        vals = list(values)
        n = len(vals)
        out = self._repeat(z, n * n)
        dx, dy = dims
        size = z[space].shape[-1]
        for d in (dx, dy):
            if not 0 <= d < size:
                raise ValueError(f"space {space!r} has {size} dimensions; got dimension {d}")
        xs = torch.tensor(vals * n, dtype=torch.float32)
        ys = torch.tensor([v for v in vals for _ in range(n)], dtype=torch.float32)
        shape = (-1, *([1] * (out[space].dim() - 2)))
        out[space][..., dx] = xs.view(shape)
        out[space][..., dy] = ys.view(shape)
        return out

    # --- the same operations, decoded to features (B, F, T) -------------
    def sweep(self, z: Mapping[str, Tensor], space: str, dim: int, values: Sequence[float]) -> Tensor:
        """Decoded sweep: features (len(values), F, T); see `sweep_latents`."""
        return self.decode(self.sweep_latents(z, space, dim, values))

    def interpolate(self, za: Mapping[str, Tensor], zb: Mapping[str, Tensor],
                    alphas: Sequence[float], space: str | None = None) -> Tensor:
        """Decoded interpolation: features (len(alphas), F, T); see `interpolate_latents`."""
        return self.decode(self.interpolate_latents(za, zb, alphas, space))

    def swap(self, za: Mapping[str, Tensor], zb: Mapping[str, Tensor], space: str) -> Tensor:
        """Decoded swap: features (1, F, T) of A with `space` taken from B."""
        return self.decode(self.swap_latents(za, zb, space))

    def toward(self, z: Mapping[str, Tensor], space: str, target_mean: Tensor,
               alpha: float | Sequence[float]) -> Tensor:
        """Decoded move toward a target: features (len(alphas), F, T)."""
        alphas = [alpha] if isinstance(alpha, (int, float)) else list(alpha)
        return self.decode(self.toward_latents(z, space, target_mean, alphas))

    def sample(self, components: Mapping[str, int | None], w: float = 1.0, n: int = 1,
               seed: int | None = None) -> Tensor:
        """Decoded samples: features (n, F, T); see `sample_latents`."""
        return self.decode(self.sample_latents(components, w, n, seed))


def pooled(z: Tensor) -> Tensor:
    """One vector per item: (B, D) stays, local (B, T', D) is averaged over time."""
    return z.mean(dim=1) if z.dim() == 3 else z


def to_int16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] -> int16 at its true level (clipped only beyond +-1); int16 stays as it is."""
    if isinstance(audio, np.ndarray) and audio.dtype == np.int16:
        return audio
    return (np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0) * 32767.0).astype(np.int16)
