"""A saved view of the explorer: what a user downloads, uploads again, or shares as a URL.

`SavedView` holds what makes a view (corpus, model, space, projection, A and
B, the selection, the user's own sounds); it is written as versioned JSON and
read back through `load_view`, which treats the file as hostile: size, JSON,
version, types, and every name and reference are checked against the open
explorer, each failure with one message that says what is wrong. The URL
carries the light part (no sounds) as query parameters (`to_query` /
`from_query`).
"""
from __future__ import annotations

import base64
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from disentangle.explore.projection import ProjectionParams
from disentangle.explore.refs import Ref
from disentangle.explore.session import Session
from disentangle.explore.validate import MIN_DIST, N_NEIGHBORS, PC, PERPLEXITY, UserError

#: Bumped when the format changes; older files are read, newer ones refused.
VERSION = 1
FORMAT = "disentangle-session"
#: Largest session file read (own sounds travel inside it as 16-bit PCM).
MAX_FILE_BYTES = 24 * 1024 * 1024
MAX_SELECTION = 5000
MAX_SOUNDS = 16
#: At most this many selected items go into a URL (browsers cut URLs at a few KB).
MAX_URL_SELECTION = 200


@dataclass(frozen=True)
class SavedSound:
    """An own sound: its name and mono 16-bit audio at `sample_rate`."""

    name: str
    sample_rate: int
    pcm16: bytes


@dataclass
class SavedView:
    """Everything that makes a view; references in their text form ("c:12", "u:0", "k:timbre:3")."""

    model: str
    space: str
    projection: dict[str, Any]
    corpus: str = ""
    a: str | None = None
    b: str | None = None
    selection: list[str] = field(default_factory=list)
    sounds: list[SavedSound] = field(default_factory=list)
    version: int = VERSION

    @classmethod
    def of(cls, session: Session, model: str, space: str, params: ProjectionParams) -> SavedView:
        """The view a session shows on `model` / `space` with `params`."""
        from disentangle.interface import to_int16

        sounds = [SavedSound(u.name, int(u.sample_rate), to_int16(u.clip).astype("<i2").tobytes())
                  for u in session.user[:MAX_SOUNDS]]
        return cls(model, space, projection_dict(params), session.corpus,
                   None if session.a is None else str(session.a), None if session.b is None else str(session.b),
                   [str(r) for r in session.selection[:MAX_SELECTION]], sounds)

    def to_json(self) -> str:
        d = asdict(self)
        d["sounds"] = [{"name": s.name, "sample_rate": s.sample_rate,
                        "pcm16_base64": base64.b64encode(s.pcm16).decode("ascii")} for s in self.sounds]
        return json.dumps({"format": FORMAT, **d}, indent=1)

    def params(self) -> ProjectionParams:
        return params_from_dict(self.projection)

    def session(self) -> Session:
        """A fresh `Session` with this view's corpus, A, B, selection and sounds."""
        s = Session(corpus=self.corpus)
        for sound in self.sounds:
            clip = np.frombuffer(sound.pcm16, dtype="<i2").astype(np.float32) / 32768.0
            s.add_user_sound(sound.name, clip, sound.sample_rate)
        s.a = None if self.a is None else Ref.parse(self.a)
        s.b = None if self.b is None else Ref.parse(self.b)
        s.selection = [Ref.parse(r) for r in self.selection]
        return s


def projection_dict(params: ProjectionParams) -> dict[str, Any]:
    """The parameters that define a map (only the method's own), JSON-ready."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.relevant().items() if k != "seed"}


def params_from_dict(d: Any) -> ProjectionParams:
    """Checked `ProjectionParams` from `projection_dict`'s output (values from the UI's fixed sets)."""
    if not isinstance(d, dict):
        raise UserError("projection must be an object such as {\"method\": \"umap\"}")
    method = d.get("method")
    if method not in ("umap", "tsne", "pca"):
        raise UserError(f"projection method must be umap, tsne or pca, got {_short(method)}")
    if method == "umap":
        nn, md = d.get("n_neighbors", 15), d.get("min_dist", 0.1)
        if not _one_of(nn, N_NEIGHBORS) or not _one_of(md, MIN_DIST):
            raise UserError(f"UMAP n_neighbors must be one of {list(N_NEIGHBORS)} and min_dist one of "
                            f"{list(MIN_DIST)}")
        return ProjectionParams("umap", int(nn), float(md))
    if method == "tsne":
        perp = d.get("perplexity", 30)
        if not _one_of(perp, PERPLEXITY):
            raise UserError(f"t-SNE perplexity must be one of {list(PERPLEXITY)}")
        return ProjectionParams("tsne", perplexity=float(perp))
    pcs = d.get("pcs", [1, 2])
    if (not isinstance(pcs, list) or len(pcs) != 2
            or not all(isinstance(p, int) and not isinstance(p, bool) and PC.lo <= p <= PC.hi for p in pcs)):
        raise UserError(f"PCA pcs must be two whole numbers within {PC}")
    return ProjectionParams("pca", pcs=(pcs[0], pcs[1]))


def read_view(path: str | Path) -> SavedView:
    """Parse a session file (format, version and types only; `check_view` checks names and references)."""
    p = Path(path)
    shown = p.name[:80]
    try:
        size = p.stat().st_size
    except OSError:
        raise UserError("the session file did not arrive on the server: upload it again") from None
    if size > MAX_FILE_BYTES:
        raise UserError(f"{shown} is {size / 2**20:.1f} MB; a session file is at most {MAX_FILE_BYTES // 2**20} MB")
    try:
        d = json.loads(p.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise UserError(f"{shown} is not a session file (not JSON); save one with 'Save session'") from None
    return view_from_dict(d, shown)


def view_from_dict(d: Any, shown: str = "the session") -> SavedView:
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise UserError(f"{shown} is not a disentangle session file (no \"format\": \"{FORMAT}\")")
    version = d.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UserError(f"{shown}: version must be a whole number, got {_short(version)}")
    if version > VERSION:
        raise UserError(f"{shown} was saved by a newer explorer (format {version}; this one reads up to {VERSION})")
    model, space, corpus = (_text(d.get(k), k, shown) for k in ("model", "space", "corpus"))
    a, b = (_ref_text(d.get(k), k, shown) for k in ("a", "b"))
    selection = d.get("selection") or []
    if not isinstance(selection, list) or len(selection) > MAX_SELECTION:
        raise UserError(f"{shown}: selection must be a list of at most {MAX_SELECTION} references")
    sel = [_ref_text(r, "selection", shown) or "" for r in selection]
    sounds_in = d.get("sounds") or []
    if not isinstance(sounds_in, list) or len(sounds_in) > MAX_SOUNDS:
        raise UserError(f"{shown}: sounds must be a list of at most {MAX_SOUNDS}")
    sounds = [_sound(s, n, shown) for n, s in enumerate(sounds_in)]
    projection = projection_dict(params_from_dict(d.get("projection")))
    return SavedView(model, space, projection, corpus, a, b, sel, sounds, version)


def check_view(view: SavedView, model_keys: list[str], space_names: list[str], n_items: int,
               n_components: dict[str, int]) -> None:
    """Names and references of `view` against the explorer it is opened in.

    model_keys: models open on the view's corpus; space_names: the model's
    spaces; n_items: corpus size; n_components: mixture components per space.
    """
    if view.model not in model_keys:
        raise UserError(f"the session's model {view.model!r} is not open here; open: {', '.join(model_keys)}")
    if view.space not in space_names:
        raise UserError(f"{view.model} has no latent space {view.space!r}; it has {', '.join(space_names)}")
    for what, text in (("A", view.a), ("B", view.b), *(("selection", r) for r in view.selection)):
        if text is None:
            continue
        ref = Ref.parse(text)
        if ref.kind == "corpus" and ref.index >= n_items:
            raise UserError(f"{what} {text} is outside the corpus ({n_items} items): was it saved on another corpus?")
        if ref.kind == "user" and ref.index >= len(view.sounds):
            raise UserError(f"{what} {text} names own sound #{ref.index}, but the file has {len(view.sounds)}")
        if ref.kind == "component" and ref.index >= n_components.get(ref.space or "", 0):
            raise UserError(f"{what} {text}: {view.model} has no such mixture component")
        if what == "selection" and ref.kind != "corpus":
            raise UserError(f"the selection holds corpus items only, not {text}")


# --- the URL ----------------------------------------------------------------------
def to_query(view: SavedView) -> dict[str, str]:
    """Query parameters of a shareable URL (no sounds; at most MAX_URL_SELECTION selected items)."""
    q = {"model": view.model, "space": view.space,
         "projection": ",".join(f"{k}={_url_value(v)}" for k, v in view.projection.items())}
    if view.corpus:
        q["corpus"] = view.corpus
    for slot, ref in (("a", view.a), ("b", view.b)):
        if ref is not None and not ref.startswith("u:"):
            q[slot] = ref
    rows = [r[2:] for r in view.selection[:MAX_URL_SELECTION] if r.startswith("c:")]
    if rows:
        q["sel"] = ".".join(rows)
    return q


def from_query(q: dict[str, str]) -> SavedView | None:
    """The view in a URL's query parameters; None when it names no model. UserError for bad values."""
    if not q.get("model"):
        return None
    proj: dict[str, Any] = {}
    for part in str(q.get("projection") or "method=umap").split(",")[:4]:
        key, _, value = part.partition("=")
        proj[key] = _parse_url_value(key, value)
    sel = [f"c:{r}" for r in str(q.get("sel") or "").split(".") if r][:MAX_URL_SELECTION]
    d = {"format": FORMAT, "version": VERSION, "model": q.get("model"), "space": q.get("space") or "",
         "corpus": q.get("corpus") or "", "a": q.get("a") or None, "b": q.get("b") or None,
         "selection": sel, "projection": proj}
    return view_from_dict(d, "the link")


def _url_value(v: Any) -> str:
    return "x".join(str(x) for x in v) if isinstance(v, list) else str(v)


def _parse_url_value(key: str, value: str) -> Any:
    if key == "method":
        return value
    if key == "pcs":
        parts = value.split("x")
        return [int(p) if p.isdigit() else p for p in parts]
    try:
        x = float(value)
    except ValueError:
        raise UserError(f"the link's projection {key} is not a number: {value[:20]!r}") from None
    return int(x) if key == "n_neighbors" and x.is_integer() else x


# --- checks -------------------------------------------------------------------------
def _one_of(x: Any, allowed: tuple) -> bool:
    return (isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
            and any(x == a for a in allowed))


def _text(x: Any, what: str, shown: str, max_len: int = 200) -> str:
    if x is None:
        return ""
    if not isinstance(x, str) or len(x) > max_len:
        raise UserError(f"{shown}: {what} must be text of at most {max_len} characters")
    return x


def _ref_text(x: Any, what: str, shown: str) -> str | None:
    if x is None or x == "":
        return None
    if not isinstance(x, str) or len(x) > 80:
        raise UserError(f"{shown}: {what} must be a reference such as c:12")
    try:
        return str(Ref.parse(x))
    except ValueError:
        raise UserError(f"{shown}: {what} {x[:40]!r} is not a reference (c:<row>, u:<j> or k:<space>:<k>)") from None


def _sound(s: Any, n: int, shown: str) -> SavedSound:
    if not isinstance(s, dict):
        raise UserError(f"{shown}: sound #{n} must be an object")
    name = _text(s.get("name"), f"sound #{n} name", shown, 80) or f"sound {n}"
    rate = s.get("sample_rate")
    if not isinstance(rate, int) or isinstance(rate, bool) or not 4000 <= rate <= 384_000:
        raise UserError(f"{shown}: sound #{n} has no sample rate from 4000 to 384000 Hz")
    data = s.get("pcm16_base64")
    try:
        pcm = base64.b64decode(data if isinstance(data, str) else "", validate=True)
    except ValueError:
        raise UserError(f"{shown}: sound #{n} is not base64 16-bit PCM") from None
    if not pcm or len(pcm) % 2:
        raise UserError(f"{shown}: sound #{n} has no audio (16-bit PCM)")
    return SavedSound(name, rate, pcm)


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


__all__ = ["MAX_FILE_BYTES", "VERSION", "SavedSound", "SavedView", "check_view", "from_query",
           "params_from_dict", "read_view", "to_query", "view_from_dict"]
