"""What each explorer action computes: render a point, sweep, interpolate, swap,
move toward a class, sample, encode the user's sound.

Each function takes the shared `Explorer`, a model name and the user's
`Session` and returns a `Rendering` (spectrogram image, per-step clips, one
clip of all steps). Points are resolved by the model's `ModelEntry`; bad
requests raise `ValueError` with a message meant for the user; the app turns
them into a warning.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from disentangle.explore.describe import describe_ref, value_text
from disentangle.explore.explorer import Explorer
from disentangle.explore.figures import spectrogram_image, spectrogram_strip
from disentangle.explore.refs import Ref
from disentangle.explore.session import Session
from disentangle.explore.uploads import MAX_UPLOAD_SECONDS
from disentangle.interface import Latents

#: Silence between the steps of an "all steps" clip, in seconds.
GAP_SECONDS = 0.08


@dataclass
class Rendering:
    """What an action shows: clips (float32 at `sample_rate`) with captions, their decoded
    features (F, T) each, and for a single point an input | reconstruction image.

    columns: steps per row when drawn (a grid is n x n); None: one row.
    """

    image: Image.Image | None
    clips: list[np.ndarray]
    captions: list[str]
    sample_rate: int
    info: str = ""
    original: np.ndarray | None = None
    features: list[np.ndarray] = field(default_factory=list)
    columns: int | None = None

    def joined(self) -> np.ndarray:
        """All clips one after another with short silences between them."""
        gap = np.zeros(int(GAP_SECONDS * self.sample_rate), np.float32)
        parts: list[np.ndarray] = []
        for clip in self.clips:
            parts += [clip, gap]
        return np.concatenate(parts[:-1]) if parts else np.zeros(0, np.float32)


def latents(ex: Explorer, model: str, session: Session, ref: Ref | None) -> Latents:
    """The latents {space: (1, ...)} of a reference under `model`."""
    return ex.entry(model).resolve(ref, session).z


def _need_b(session: Session) -> Ref:
    if session.b is None:
        raise ValueError("select a second point B (set 'clicks select' to B, then click a point)")
    return session.b


def render_point(ex: Explorer, model: str, ref: Ref, session: Session) -> Rendering:
    """Original clip, reconstruction (decode + Griffin-Lim) and both spectrograms of one point."""
    entry = ex.entry(model)
    x = entry.resolve(ref, session).x
    render = entry.render(ref, session)
    original = entry.original(ref, session)
    if x is not None:
        image = spectrogram_strip([x[0].numpy(), render.features[0].numpy()],
                                  ["input", f"{model} reconstruction"], scale=3)
    else:
        image = spectrogram_image(render.features[0].numpy(), scale=3, title=f"{model}: decoded mixture mean")
    return Rendering(image, [render.audio], ["reconstruction"], entry.interface.sample_rate,
                     describe_ref(ex, ref, session, model), original)


def _strip(ex: Explorer, model: str, feats: torch.Tensor, captions: Sequence[str], info: str) -> Rendering:
    iface = ex.entry(model).interface
    clips = list(iface.to_audio(feats))
    return Rendering(None, clips, list(captions), iface.sample_rate, info, features=[f.numpy() for f in feats])


def sweep_values(lo: float, hi: float, steps: int) -> list[float]:
    """Evenly spaced values from lo to hi (Dal Ri 2025 Fig. 6 uses -1..1 in 5 steps)."""
    steps = int(steps)
    if steps < 2 or steps > 25:
        raise ValueError("choose between 2 and 25 steps")
    return [float(v) for v in np.linspace(lo, hi, steps)]


def sweep(ex: Explorer, model: str, session: Session, ref: Ref | None, space: str, dim: int,
          lo: float = -1.0, hi: float = 1.0, steps: int = 5, unit: str = "value") -> Rendering:
    """Sweep one dimension of one space for the selected item.

    unit "value": the dimension takes the values lo..hi; "std": it moves from
    its own value by lo..hi prior standard deviations.
    """
    iface = ex.entry(model).interface
    if space not in iface.latent_shapes():
        raise ValueError(f"{model} has no space {space!r}")
    z = latents(ex, model, session, ref)
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
    return _strip(ex, model, feats, captions, f"sweep of {space}[{dim}] for {describe_ref(ex, ref, session, model)}")


def interpolate(ex: Explorer, model: str, session: Session, space: str | None,
                lo: float = 0.0, hi: float = 1.0, steps: int = 5) -> Rendering:
    """From A to B (alpha lo..hi, -1..2 allowed); space None moves every space, else only that one."""
    za = latents(ex, model, session, session.a)
    zb = latents(ex, model, session, _need_b(session))
    if not (-1.0 <= lo <= 2.0 and -1.0 <= hi <= 2.0):
        raise ValueError("alpha must stay within -1 .. 2")
    space = space or None
    alphas = sweep_values(lo, hi, steps)
    feats = ex.entry(model).interface.interpolate(za, zb, alphas, space)
    what = f"only {space}" if space else "all spaces"
    return _strip(ex, model, feats, [f"alpha={a:+.2f}" for a in alphas],
                  f"A -> B ({what}): {describe_ref(ex, session.a, session, model)} -> "
                  f"{describe_ref(ex, session.b, session, model)}")


def swap(ex: Explorer, model: str, session: Session, space: str) -> Rendering:
    """A, B, and A with `space` taken from B (e.g. B's timbre on A's pitch)."""
    za = latents(ex, model, session, session.a)
    zb = latents(ex, model, session, _need_b(session))
    iface = ex.entry(model).interface
    feats = torch.cat([iface.decode(za), iface.decode(zb), iface.swap(za, zb, space), iface.swap(zb, za, space)])
    return _strip(ex, model, feats, ["A", "B", f"A with B's {space}", f"B with A's {space}"],
                  f"swap of {space} between A and B")


def class_targets(ex: Explorer, model: str, space: str) -> dict[str, np.ndarray]:
    """Targets to move toward, by name: mixture means ("violin (mixture mean)") and the
    mean latent of each class of the space's label ("C4 (average of the corpus)"), each (D,)."""
    entry = ex.entry(model)
    out: dict[str, np.ndarray] = {}
    label = entry.model.space(space).label or ""
    comps = entry.components(space)
    for m, name in zip(comps.means, comps.labels):
        out[f"{value_text(label, name)} (mixture mean)"] = m
    if label and label in ex.labels:
        values = np.array([ex.corpus.items[r].label(label) for r in entry.rows])
        for cls in ex.classes(label):
            mask = values == cls
            if mask.any():
                out[f"{value_text(label, cls)} (average of the corpus)"] = entry.flat[space][mask].mean(0)
    return out


def toward(ex: Explorer, model: str, session: Session, space: str, target: str,
           alpha: float = 1.0, steps: int = 5) -> Rendering:
    """Move A's `space` toward a target (see `class_targets`) by 0..alpha (Luo 2019, Sec. 4.4)."""
    z = latents(ex, model, session, session.a)
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
    entry = ex.entry(model)
    feats = entry.interface.sample(components, w=float(w), n=int(n), seed=int(seed))
    names = [describe_component(ex, model, s, k) for s, k in components.items() if k is not None]
    chosen = " x ".join(names) or "the whole prior"
    return _strip(ex, model, feats, [f"sample {i + 1}" for i in range(int(n))],
                  f"{int(n)} samples from {chosen}, spread w={w}")


def grid(ex: Explorer, model: str, session: Session, space: str, dims: tuple[int, int],
         lo: float = -1.0, hi: float = 1.0, steps: int = 4) -> Rendering:
    """A steps x steps grid over two dims of a space, around A (or a mixture mean if none)."""
    iface = ex.entry(model).interface
    if session.a is not None:
        z = latents(ex, model, session, session.a)
    else:
        z = iface.sample_latents({}, w=0.0, n=1, seed=0)
    if int(steps) > 6:
        raise ValueError("a grid has at most 6 x 6 cells")
    values = sweep_values(lo, hi, steps)
    feats = iface.decode(iface.grid_latents(z, space, (int(dims[0]), int(dims[1])), values))
    # Rows run over dims[1] from its highest value at the top, like a y axis.
    order = [y * len(values) + x for y in reversed(range(len(values))) for x in range(len(values))]
    rendering = _strip(ex, model, feats[order], [f"({values[k % len(values)]:+.1f}, "
                                                 f"{values[k // len(values)]:+.1f})" for k in order],
                       f"grid over {space}[{dims[0]}] (across) x {space}[{dims[1]}] (up)")
    rendering.columns = len(values)
    return rendering


def describe_component(ex: Explorer, model: str, space: str, k: int) -> str:
    """"violin" for component k of a timbre space (the class it stands for)."""
    from disentangle.explore.describe import component_name

    return component_name(ex, model, Ref.component(space, int(k)))


def encode_upload(ex: Explorer, session: Session, path: str, name: str | None = None) -> tuple[Ref, list[str]]:
    """Read, check and store the user's audio; returns (its reference, warnings).

    Raises `ValueError` (an `AudioError` is one) with a clear reason for
    unreadable, empty, silent or non-finite files; `name` (default: the
    file's stem) is how messages and the map call it.
    """
    from pathlib import Path

    from disentangle.audio.io import AudioError, load_audio
    from disentangle.explore.uploads import check_upload

    iface = next(iter(ex.entries.values())).interface
    p = Path(path)
    shown = name or p.stem
    warnings_out = check_upload(p, shown)  # from the header, before decoding anything
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # load_audio's "only the first 60 s" names the server's path
        audio = load_audio(p, iface.sample_rate, max_seconds=MAX_UPLOAD_SECONDS)
    # Stored and played at its recorded level: each model normalises its own input
    # (a mean-amplitude-one clip can peak at 4 and would clip on playback).
    clip = iface.prepare(audio, keep_level=True)
    if float(np.max(np.abs(clip))) < 1e-4:
        raise AudioError(p, "is (nearly) silent after trimming; record or upload a louder sound")
    if len(audio) < 0.1 * iface.sample_rate:
        warnings_out.append(f"{shown} is very short ({len(audio) / iface.sample_rate:.2f} s); it was zero-padded")
    seconds = iface.cfg.n_samples / iface.sample_rate
    if len(audio) > iface.cfg.n_samples * 1.5:
        warnings_out.append(f"the models hear {seconds:.2f} s clips: only the start of {shown} is used")
    ref = session.add_user_sound(shown, clip, iface.sample_rate)
    try:
        for entry in ex.entries.values():  # encode now, so a bad clip fails here and not later
            entry.encode_user(session.user[-1])
    except Exception:
        session.user.pop()
        raise
    return ref, warnings_out
