"""What each explorer action computes: render a point, sweep, interpolate, swap,
move toward a class, sample, encode the user's sound.

Each function takes the shared `Explorer`, a model name and the user's session
and returns a `Rendering` (spectrogram image, per-step clips, one clip of all
steps). Bad requests raise `ValueError` with a message meant for the user;
the app turns them into `gr.Error`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from disentangle.explore.explorer import Explorer
from disentangle.explore.figures import spectrogram_image, spectrogram_strip
from disentangle.explore.session import Session, add_user_sound
from disentangle.interface import Latents

#: Silence between the steps of an "all steps" clip, in seconds.
GAP_SECONDS = 0.08
#: Longest upload accepted, in seconds (only the first clip length is used anyway).
MAX_UPLOAD_SECONDS = 60.0


@dataclass
class Rendering:
    """What an action shows: an image, clips (float32 at `sample_rate`), captions."""

    image: Image.Image
    clips: list[np.ndarray]
    captions: list[str]
    sample_rate: int
    info: str = ""
    original: np.ndarray | None = None
    tiles: list[Image.Image] = field(default_factory=list)

    def joined(self) -> np.ndarray:
        """All clips one after another with short silences between them."""
        gap = np.zeros(int(GAP_SECONDS * self.sample_rate), np.float32)
        parts: list[np.ndarray] = []
        for clip in self.clips:
            parts += [clip, gap]
        return np.concatenate(parts[:-1]) if parts else np.zeros(0, np.float32)


def user_encoded(ex: Explorer, model: str, session: Session, j: int) -> tuple[torch.Tensor, Latents]:
    """(features (1, F, T), latents {space: (1, ...)}) of the user's sound j under `model`.

    Memoised in the explorer's shared LRU by the clip's content, so nothing
    user-specific is shared (a key is only found by whoever holds the clip).
    """
    users = session.get("user", [])
    if not 0 <= j < len(users):
        raise ValueError(f"your sound #{j} is not in this session (upload it again)")
    sound = users[j]
    iface = ex.entry(model).interface
    key = ("user", model, hash(sound["clip"].tobytes()))
    cached = ex.renders.get(key)
    if cached is None:
        clip = sound["clip"]
        sr = int(sound.get("sr", iface.sample_rate))
        if sr != iface.sample_rate:  # models with other rates hear the same sound resampled
            import librosa

            clip = librosa.resample(clip, orig_sr=sr, target_sr=iface.sample_rate)
        x = iface.features(clip)
        cached = (x, iface.encode(x))
        ex.renders.put(key, cached)
    return cached


def user_latents(ex: Explorer, model: str, session: Session, j: int) -> Latents:
    """Latents {space: (1, ...)} of the user's sound j under `model`."""
    return user_encoded(ex, model, session, j)[1]


def resolve(ex: Explorer, model: str, session: Session, ref: str | None) -> tuple[Latents, torch.Tensor | None]:
    """A reference -> (latents {space: (1, ...)}, input features (1, F, T) or None)."""
    if not ref:
        raise ValueError("select a point on the map first")
    entry = ex.entry(model)
    kind, _, rest = ref.partition(":")
    if kind == "c":
        i = entry.row_of.get(int(rest))
        if i is None:
            raise ValueError(f"{ex.describe_ref(ref)} could not be read for {model}")
        return {s: torch.from_numpy(v[i:i + 1]) for s, v in entry.latents.items()}, entry.x[i:i + 1]
    if kind == "u":
        x, z = user_encoded(ex, model, session, int(rest))
        return z, x
    # A mixture component: its mean in that space, every other space from the
    # corpus item closest to it, so the decoded sound is a plausible prototype.
    space, _, k = rest.rpartition(":")
    means, _, _ = ex.component_refs(model, space)
    if not 0 <= int(k) < len(means):
        raise ValueError(f"space {space!r} has no component {k}")
    nearest = int(np.argmin(((entry.flat[space] - means[int(k)]) ** 2).sum(1)))
    z = {s: torch.from_numpy(v[nearest:nearest + 1]).clone() for s, v in entry.latents.items()}
    z[space] = torch.from_numpy(means[int(k)]).expand_as(z[space]).clone()
    return z, None


def _audio(ex: Explorer, model: str, features: torch.Tensor) -> list[np.ndarray]:
    return list(ex.entry(model).interface.to_audio(features))


def original_clip(ex: Explorer, model: str, ref: str, session: Session) -> np.ndarray | None:
    """The input clip the model sees (trimmed, cropped) for a corpus item or user sound."""
    from disentangle.audio.io import load_audio

    kind, _, rest = ref.partition(":")
    iface = ex.entry(model).interface
    if kind == "u":
        return session["user"][int(rest)]["clip"]
    if kind != "c":
        return None
    key = ("clip", int(rest), iface.sample_rate, iface.cfg.key())
    clip = ex.clips.get(key)
    if clip is None:
        path = ex.corpus.audio_path(ex.corpus.items[int(rest)])
        clip = iface.prepare(load_audio(path, iface.sample_rate, allow_silent=True), keep_level=True)
        ex.clips.put(key, clip)
    return clip


def render_point(ex: Explorer, model: str, ref: str, session: Session) -> Rendering:
    """Original clip, reconstruction (decode + Griffin-Lim) and both spectrograms of one point."""
    iface = ex.entry(model).interface
    z, x = resolve(ex, model, session, ref)
    cached = ex.renders.get(("recon", model, ref)) if not ref.startswith("u:") else None
    if cached is None:
        recon = iface.decode(z)
        audio = _audio(ex, model, recon)[0]
        cached = (recon, audio)
        if not ref.startswith("u:"):
            ex.renders.put(("recon", model, ref), cached)
    recon, audio = cached
    original = original_clip(ex, model, ref, session)
    if x is not None:
        image = spectrogram_strip([x[0].numpy(), recon[0].numpy()], ["input", f"{model} reconstruction"], scale=3)
    else:
        image = spectrogram_image(recon[0].numpy(), scale=3, title=f"{model}: decoded component mean")
    return Rendering(image, [audio], ["reconstruction"], iface.sample_rate,
                     ex.describe_ref(ref, session), original)


def _strip(ex: Explorer, model: str, feats: torch.Tensor, captions: Sequence[str], info: str) -> Rendering:
    iface = ex.entry(model).interface
    clips = _audio(ex, model, feats)
    arrays = [f.numpy() for f in feats]
    lo, hi = float(min(a.min() for a in arrays)), float(max(a.max() for a in arrays))
    tiles = [spectrogram_image(a, lo, hi, 2, c) for a, c in zip(arrays, captions)]
    return Rendering(spectrogram_strip(arrays, captions, scale=2), clips, list(captions), iface.sample_rate,
                     info, tiles=tiles)


def sweep_values(lo: float, hi: float, steps: int) -> list[float]:
    """Evenly spaced values from lo to hi (Dal Ri 2025 Fig. 6 uses -1..1 in 5 steps)."""
    steps = int(steps)
    if steps < 2 or steps > 25:
        raise ValueError("choose between 2 and 25 steps")
    return [float(v) for v in np.linspace(lo, hi, steps)]


def sweep(ex: Explorer, model: str, session: Session, ref: str | None, space: str, dim: int,
          lo: float = -1.0, hi: float = 1.0, steps: int = 5, unit: str = "value") -> Rendering:
    """Sweep one dimension of one space for the selected item.

    unit "value": the dimension takes the values lo..hi; "std": it moves from
    its own value by lo..hi prior standard deviations.
    """
    iface = ex.entry(model).interface
    if space not in iface.latent_shapes():
        raise ValueError(f"{model} has no space {space!r}")
    z, _ = resolve(ex, model, session, ref)
    values = sweep_values(lo, hi, steps)
    size = z[space].shape[-1]
    dim = int(dim)
    if not 0 <= dim < size:
        raise ValueError(f"space {space!r} has dimensions 0..{size - 1}; got {dim}")
    if unit == "std":
        centre = float(z[space][0, ..., dim].mean())
        sigma = float(iface.prior_std(space)[dim])
        absolute = [centre + v * sigma for v in values]
        captions = [f"{v:+.2f} sd" for v in values]
    else:
        absolute = values
        captions = [f"{space}[{dim}]={v:+.2f}" for v in values]
    feats = iface.sweep(z, space, dim, absolute)
    return _strip(ex, model, feats, captions, f"sweep of {space}[{dim}] for {ex.describe_ref(ref, session)}")


def interpolate(ex: Explorer, model: str, session: Session, space: str | None,
                lo: float = 0.0, hi: float = 1.0, steps: int = 5) -> Rendering:
    """From A to B (alpha lo..hi, -1..2 allowed); space None moves every space, else only that one."""
    za, _ = resolve(ex, model, session, session.get("A"))
    if not session.get("B"):
        raise ValueError("select a second point B (set 'clicks select' to B, then click a point)")
    zb, _ = resolve(ex, model, session, session.get("B"))
    if not (-1.0 <= lo <= 2.0 and -1.0 <= hi <= 2.0):
        raise ValueError("alpha must stay within -1 .. 2")
    space = space or None
    alphas = sweep_values(lo, hi, steps)
    feats = ex.entry(model).interface.interpolate(za, zb, alphas, space)
    what = f"only {space}" if space else "all spaces"
    return _strip(ex, model, feats, [f"alpha={a:+.2f}" for a in alphas],
                  f"A -> B ({what}): {ex.describe_ref(session['A'], session)} -> {ex.describe_ref(session['B'], session)}")


def swap(ex: Explorer, model: str, session: Session, space: str) -> Rendering:
    """A, B, and A with `space` taken from B (e.g. B's timbre on A's pitch)."""
    za, _ = resolve(ex, model, session, session.get("A"))
    if not session.get("B"):
        raise ValueError("select a second point B first")
    zb, _ = resolve(ex, model, session, session.get("B"))
    iface = ex.entry(model).interface
    feats = torch.cat([iface.decode(za), iface.decode(zb), iface.swap(za, zb, space), iface.swap(zb, za, space)])
    return _strip(ex, model, feats, ["A", "B", f"A with B's {space}", f"B with A's {space}"],
                  f"swap of {space} between A and B")


def class_targets(ex: Explorer, model: str, space: str) -> dict[str, np.ndarray]:
    """Targets to move toward: mixture components ("component: <label>") and the
    mean latent of each class of the space's label ("class mean: <value>"), each (D,)."""
    entry = ex.entry(model)
    out: dict[str, np.ndarray] = {}
    means, names, _ = ex.component_refs(model, space)
    for k, (m, name) in enumerate(zip(means, names)):
        out[f"component {k}: {name}"] = m
    label = entry.model.space(space).label
    if label and label in ex.labels:
        values = np.array([ex.corpus.items[r].label(label) for r in entry.rows])
        for cls in ex.classes(label):
            mask = values == cls
            if mask.any():
                out[f"class mean: {label}={cls}"] = entry.flat[space][mask].mean(0)
    return out


def toward(ex: Explorer, model: str, session: Session, space: str, target: str,
           alpha: float = 1.0, steps: int = 5) -> Rendering:
    """Move A's `space` toward a target (see `class_targets`) by 0..alpha (Luo 2019, Sec. 4.4)."""
    z, _ = resolve(ex, model, session, session.get("A"))
    targets = class_targets(ex, model, space)
    if target not in targets:
        raise ValueError(f"unknown target {target!r} for {space}; choose one of the listed targets")
    alphas = sweep_values(0.0, alpha, steps)
    feats = ex.entry(model).interface.toward(z, space, torch.from_numpy(targets[target]), alphas)
    return _strip(ex, model, feats, [f"alpha={a:.2f}" for a in alphas],
                  f"A's {space} toward {target}")


def sample(ex: Explorer, model: str, components: dict[str, int | None], w: float = 1.0,
           n: int = 4, seed: int = 0) -> Rendering:
    """n samples from chosen components per space (None: the whole prior), spread w."""
    if not 1 <= int(n) <= 16:
        raise ValueError("draw between 1 and 16 samples")
    iface = ex.entry(model).interface
    feats = iface.sample(components, w=float(w), n=int(n), seed=int(seed))
    chosen = ", ".join(f"{s}={k}" for s, k in components.items() if k is not None) or "the prior"
    return _strip(ex, model, feats, [f"sample {i + 1}" for i in range(int(n))],
                  f"{int(n)} samples from {chosen}, spread w={w}")


def grid(ex: Explorer, model: str, session: Session, space: str, dims: tuple[int, int],
         lo: float = -1.0, hi: float = 1.0, steps: int = 4) -> Rendering:
    """A steps x steps grid over two dims of a space, around A (or a mixture mean if none)."""
    iface = ex.entry(model).interface
    if session.get("A"):
        z, _ = resolve(ex, model, session, session["A"])
    else:
        z = iface.sample_latents({}, w=0.0, n=1, seed=0)
    if int(steps) > 6:
        raise ValueError("a grid has at most 6 x 6 cells")
    values = sweep_values(lo, hi, steps)
    feats = iface.decode(iface.grid_latents(z, space, (int(dims[0]), int(dims[1])), values))
    rendering = _strip(ex, model, feats, [f"({x:+.1f},{y:+.1f})" for y in values for x in values],
                       f"grid over {space}[{dims[0]}] (across) x {space}[{dims[1]}] (down)")
    n, tiles = len(values), rendering.tiles
    tw, th, gap = tiles[0].width, tiles[0].height, 4
    image = Image.new("RGB", (n * (tw + gap), n * (th + gap)), "white")
    for k, tile in enumerate(tiles):  # row-major with y outer; the top row is the highest y
        x, y = k % n, k // n
        image.paste(tile, (x * (tw + gap), (n - 1 - y) * (th + gap)))
    rendering.image = image
    return rendering


def encode_upload(ex: Explorer, session: Session, path: str, name: str | None = None) -> tuple[str, list[str]]:
    """Read, check and store the user's audio; returns (its reference, warnings).

    Raises `ValueError` (an `AudioError` is one) with a clear reason for
    unreadable, empty, silent or non-finite files.
    """
    from pathlib import Path

    import soundfile as sf

    from disentangle.audio.io import AudioError, load_audio

    warnings_out: list[str] = []
    iface = next(iter(ex.entries.values())).interface
    p = Path(path)
    try:
        info = sf.info(str(p))
        if info.frames / max(info.samplerate, 1) > MAX_UPLOAD_SECONDS:
            warnings_out.append(f"{p.name} is {info.frames / info.samplerate:.0f} s long; "
                                f"only the first {MAX_UPLOAD_SECONDS:.0f} s are read")
    except (RuntimeError, OSError):  # soundfile's errors are RuntimeErrors
        pass  # load_audio below gives the precise reason (or decodes it via librosa)
    audio = load_audio(p, iface.sample_rate, max_seconds=MAX_UPLOAD_SECONDS)
    clip = iface.prepare(audio)
    if float(np.max(np.abs(clip))) < 1e-4:
        raise AudioError(p, "is (nearly) silent after trimming; record or upload a louder sound")
    if len(audio) < 0.1 * iface.sample_rate:
        warnings_out.append(f"{p.name} is very short ({len(audio) / iface.sample_rate:.2f} s); it was zero-padded")
    seconds = iface.cfg.n_samples / iface.sample_rate
    if len(audio) > iface.cfg.n_samples * 1.5:
        warnings_out.append(f"the models hear {seconds:.2f} s clips: only the start of {p.name} is used")
    ref = add_user_sound(session, name or p.stem, clip)
    session["user"][-1]["sr"] = iface.sample_rate
    for model in ex.model_names:  # encode now, so a bad clip fails here and not later
        user_latents(ex, model, session, int(ref[2:]))
    return ref, warnings_out
