"""What every Gradio handler shares: the explorer(s) it is bound to, the checks every endpoint
argument goes through, and the conversions of clips and sessions (ui_handlers.py has the
handlers themselves; tool_handlers.py the tool tabs').
"""
from __future__ import annotations

import numpy as np

from disentangle.explore import validate as v
from disentangle.explore.describe import ref_name, selection_md
from disentangle.explore.explorer import Explorer
from disentangle.explore.hub import ExplorerHub
from disentangle.explore.projection import ProjectionParams
from disentangle.explore.session import Clip, Session
from disentangle.interface import to_int16

#: How many per-space component pickers the Sample tab has (models with more spaces share the last).
MAX_SPACES = 6
ANY = "any (whole prior)"
ALL_SPACES = "all spaces"
METHODS = {"UMAP": "umap", "t-SNE": "tsne", "PCA": "pca"}
AUTOPLAY = ("reconstruction", "original", "original, then reconstruction")
SWEEP_UNITS = ("value", "prior std around A")


def audio_out(clip: Clip | None) -> tuple[int, np.ndarray] | None:
    """(sample_rate, int16) for gr.Audio: true level, clipped only beyond full scale."""
    return None if clip is None else (int(clip.sample_rate), to_int16(clip.audio))


def played(autoplay: str, original: Clip | None, recon: Clip) -> Clip:
    """What a click plays (the "on click, play" choice; the reconstruction when there is no original)."""
    if autoplay == "original" and original is not None:
        return original
    if autoplay == "original, then reconstruction" and original is not None:
        gap = np.zeros(int(0.15 * recon.sample_rate), np.float32)
        return Clip(recon.sample_rate, np.concatenate([original.audio, gap, recon.audio]))
    return recon


def fresh(session: Session | None) -> Session:
    return session if isinstance(session, Session) else Session()


class HandlerBase:
    """Bound to one shared `Explorer` (or a hub of them); the argument checks of every handler."""

    def __init__(self, explorer: Explorer | ExplorerHub, default_method: str = "umap"):
        self.hub = explorer if isinstance(explorer, ExplorerHub) else ExplorerHub.single(explorer)
        self.default_method = default_method

    @property
    def ex(self) -> Explorer:
        """The explorer of the corpus the app opened with."""
        return self.hub.default

    def ex_of(self, model) -> Explorer:
        """The explorer serving model key `model` (its corpus must be open)."""
        return self.hub.explorer_of(model)

    def ex_of_session(self, session: Session) -> Explorer:
        """The explorer of the corpus the session's references point into."""
        return self.hub.explorer_of_corpus(session.corpus)

    # --- helpers -----------------------------------------------------------
    @staticmethod
    def params(method: str, n_neighbors: float, min_dist: float, perplexity: float,
               pc_x: float, pc_y: float) -> ProjectionParams:
        return v.projection_params(method, n_neighbors, min_dist, perplexity, pc_x, pc_y, METHODS)

    # --- argument checks (every endpoint argument goes through one) -------------
    def model(self, model) -> str:
        return v.choice(model, "model", self.hub.model_keys())

    def space(self, model: str, space) -> str:
        return v.choice(space, "latent space", self.ex_of(model).space_names(model))

    def dim(self, model: str, space: str, dim, name: str = "dimension") -> int:
        size = self.ex_of(model).entry(model).model.space(space).size
        return v.integer(dim, f"{name} of {space}", v.Range(0, size - 1))

    def _name(self, ref, session: Session, model: str) -> str:
        return ref_name(self.ex_of(model), ref, session, model)

    def selection_md(self, session: Session, model: str | None = None) -> str:
        return selection_md(self.ex_of(model) if model else self.ex_of_session(session), session, model)
