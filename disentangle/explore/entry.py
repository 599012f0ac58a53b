"""One model of the explorer with its corpus latents: the core that resolves a `Ref`.

A `ModelEntry` owns the loaded model (its normaliser is a declared part of
it), the `Interface` that speaks to it, the normalised features and posterior
means of every readable corpus item, and memos of renders. Everything an
action needs about a point -- its latents, its input features, its decoded
audio, its original clip, its neighbours -- comes from here. No prose, no
figures: those live in the presentation modules.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from disentangle.data.schema import Corpus
from disentangle.explore.cache import LatentCache
from disentangle.explore.memo import LRU
from disentangle.explore.refs import Ref
from disentangle.explore.session import Session, UserSound
from disentangle.features.cache import FeatureSet
from disentangle.interface import Interface, Latents, pooled
from disentangle.models.base import DisentangleModel

#: Bytes each of a model's render and clip memos may hold.
MEMO_BYTES = 32 * 1024 * 1024


class NormalisedRows:
    """The normalised features (M, F, T) of a model, read from the feature cache by row.

    `rows[i:j]` reads rows i..j-1 of the (memory-mapped) scaled features and
    normalises them: only the rows a click needs are ever in memory.
    """

    def __init__(self, features: FeatureSet, normalise: Callable[[torch.Tensor], torch.Tensor]):
        self.features, self.normalise = features, normalise

    def __len__(self) -> int:
        return int(self.features.x.shape[0])

    def __getitem__(self, rows: slice) -> torch.Tensor:
        if not isinstance(rows, slice) or rows.step not in (None, 1):
            raise TypeError("NormalisedRows takes a contiguous slice, e.g. x[i:i + 1]")
        start, stop, _ = rows.indices(len(self))
        return self.normalise(torch.from_numpy(self.features.rows(start, stop)))


@dataclass
class Components:
    """The mixture means of one space: means (K, D), K class names, K references."""

    means: np.ndarray
    labels: list[str]
    refs: list[Ref]


@dataclass
class Resolved:
    """A point as the model sees it: latents {space: (1, D) or (1, T', D)} and,
    for corpus items and own sounds, the input features (1, F, T)."""

    z: Latents
    x: torch.Tensor | None


@dataclass
class Render:
    """A decoded point: features (1, F, T) and Griffin-Lim audio (N,) float32."""

    features: torch.Tensor
    audio: np.ndarray


class ModelEntry:
    """One model with the latents of the corpus it is shown with.

    rows: corpus row of each feature row (M,); x: normalised features (M, F, T), sliced
    by row (a `NormalisedRows` reading the feature cache, or a tensor);
    latents: {space: (M, D) or (M, T', D)}; flat: {space: (M, D)}, one vector
    per item (local spaces averaged over time) for maps and neighbours.
    """

    def __init__(self, name: str, model: DisentangleModel, interface: Interface, corpus: Corpus, key: str,
                 rows: np.ndarray, x: NormalisedRows | torch.Tensor, latents: dict[str, np.ndarray], cache: LatentCache,
                 skipped: list[tuple[str, str]] | None = None):
        self.name, self.model, self.interface, self.corpus = name, model, interface, corpus
        self.key, self.rows, self.x, self.latents, self.cache = key, rows, x, latents, cache
        self.flat = {s: pooled(torch.from_numpy(v)).numpy() for s, v in latents.items()}
        self.row_of = {int(r): i for i, r in enumerate(rows)}
        self.skipped = list(skipped or [])
        # Bounded in bytes too: 4,096 one-second clips alone were ~360 MB.
        self._renders: LRU[Render] = LRU(1024, max_bytes=MEMO_BYTES)
        # One render per point at a time: a click asks twice at once (the page's clip route and
        # Gradio's render_point), and the second waits for the first instead of redoing it.
        self._rendering: dict[str, threading.Lock] = {}
        self._rendering_lock = threading.Lock()
        self._clips: LRU[np.ndarray] = LRU(4096, max_bytes=MEMO_BYTES)
        self._users: LRU[tuple[torch.Tensor, Latents]] = LRU(256, max_bytes=MEMO_BYTES // 4)

    # --- descriptions ------------------------------------------------------
    @property
    def space_names(self) -> list[str]:
        return [s.name for s in self.model.spaces]

    def check_space(self, space: str) -> str:
        if space not in self.flat:
            raise ValueError(f"model {self.name!r} has no latent space {space!r}; it has {self.space_names}")
        return space

    def components(self, space: str) -> Components:
        """Mixture means of `space` (empty for a plain N(0, I) prior)."""
        comps = self.interface.prior(self.check_space(space))
        if comps is None:
            return Components(np.zeros((0, self.flat[space].shape[1]), np.float32), [], [])
        means = comps.means.detach().float().numpy()
        return Components(means, list(comps.labels), [Ref.component(space, k) for k in range(len(means))])

    def feature_row(self, ref: Ref) -> int:
        """The feature row of a corpus reference; ValueError when that file was unreadable."""
        if ref.kind != "corpus" or not 0 <= ref.index < len(self.corpus.items):
            raise ValueError(f"{ref} is not an item of the corpus ({len(self.corpus.items)} items)")
        i = self.row_of.get(ref.index)
        if i is None:
            raise ValueError(f"{self.corpus.items[ref.index].path} could not be read for {self.name}")
        return i

    # --- resolving references ----------------------------------------------
    def encode_user(self, sound: UserSound) -> tuple[torch.Tensor, Latents]:
        """(features (1, F, T), latents {space: (1, ...)}) of an own sound.

        Memoised by the clip's content, so nothing user-specific is shared
        (only whoever holds the clip can find its key).
        """
        key = hashlib.sha1(sound.clip.tobytes()).hexdigest() + f"@{sound.sample_rate}"
        cached = self._users.get(key)
        if cached is None:
            clip = sound.clip
            if sound.sample_rate != self.interface.sample_rate:  # other models hear it resampled
                import librosa

                clip = librosa.resample(clip, orig_sr=sound.sample_rate, target_sr=self.interface.sample_rate)
            x = self.interface.features(clip)
            cached = (x, self.interface.encode(x))
            self._users.put(key, cached)
        return cached

    def resolve(self, ref: Ref | None, session: Session) -> Resolved:
        """A reference -> its latents (and input features when it has any)."""
        if ref is None:
            raise ValueError("select a point on the map first")
        if ref.kind == "corpus":
            i = self.feature_row(ref)
            return Resolved({s: torch.from_numpy(v[i:i + 1]) for s, v in self.latents.items()}, self.x[i:i + 1])
        if ref.kind == "user":
            x, z = self.encode_user(session.user_sound(ref))
            return Resolved(z, x)
        # A mixture component: its mean in that space, every other space from
        # the corpus item closest to it, so the decoded sound is a plausible prototype.
        space = ref.space or ""
        comps = self.components(space)
        if not ref.index < len(comps.means):
            raise ValueError(f"space {space!r} has no mixture component {ref.index}")
        mean = comps.means[ref.index]
        nearest = int(np.argmin(((self.flat[space] - mean) ** 2).sum(1)))
        z = {s: torch.from_numpy(v[nearest:nearest + 1]).clone() for s, v in self.latents.items()}
        z[space] = torch.from_numpy(mean).expand_as(z[space]).clone()
        return Resolved(z, None)

    def vector(self, ref: Ref, space: str, session: Session) -> np.ndarray:
        """One (D,) vector of `ref` in `space` (local spaces averaged over time)."""
        self.check_space(space)
        if ref.kind == "corpus":
            return self.flat[space][self.feature_row(ref)]
        return pooled(self.resolve(ref, session).z[space]).numpy()[0]

    # --- audio ---------------------------------------------------------------
    def render(self, ref: Ref, session: Session) -> Render:
        """Decode a point and turn it into audio (memoised except for own sounds)."""
        if ref.kind == "user":
            return self._render(ref, session)
        key = (str(ref),)
        cached = self._renders.get(key)
        if cached is None:
            with self._rendering_lock:
                lock = self._rendering.setdefault(key[0], threading.Lock())
            with lock:
                cached = self._renders.get(key)
                if cached is None:
                    cached = self._render(ref, session)
                    self._renders.put(key, cached)
            with self._rendering_lock:
                self._rendering.pop(key[0], None)
        return cached

    def _render(self, ref: Ref, session: Session) -> Render:
        features = self.interface.decode(self.resolve(ref, session).z)
        return Render(features, self.interface.to_audio(features)[0])

    def original(self, ref: Ref, session: Session) -> np.ndarray | None:
        """The input clip the model sees (trimmed, cropped, at its recorded level), or
        None for a mixture component."""
        from disentangle.audio.io import load_audio

        if ref.kind == "user":
            return session.user_sound(ref).clip
        if ref.kind != "corpus":
            return None
        self.feature_row(ref)
        clip = self._clips.get(ref.index)
        if clip is None:
            path = self.corpus.audio_path(self.corpus.items[ref.index])
            clip = self.interface.prepare(load_audio(path, self.interface.sample_rate, allow_silent=True),
                                          keep_level=True)
            self._clips.put(ref.index, clip)
        return clip

    def warm_up(self) -> None:
        """One decode + Griffin-Lim and one audio read now, so the first click does not
        pay for kernel set-up, the mel pseudo-inverse and librosa's JIT."""
        if len(self.rows):
            session = Session()
            self.render(Ref.corpus(int(self.rows[0])), session)
            self.original(Ref.corpus(int(self.rows[-1])), session)

