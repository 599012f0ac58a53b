"""The map as the user sees it: corpus points, means, own sounds, A/B, hits, with a caption.

Presentation over the core: reads the `Explorer` and a `Session`, returns a
plotly figure and a markdown caption.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from disentangle.explore.corpus_match import trained_corpus
from disentangle.explore.describe import component_name, hover_text, placement_note, value_text
from disentangle.explore.explorer import Explorer
from disentangle.explore.figures import HOVER_TEXT_MAX, MapPoints, MapStyle, Marks, latent_map
from disentangle.explore.projection import Projection, ProjectionParams
from disentangle.explore.refs import Ref
from disentangle.explore.session import Session


@dataclass
class MapOptions:
    """What the user chose to see on a map.

    filter_label/filter_values: show only items whose label is one of the
    values. only: show only these corpus rows (a selection), None for all.
    highlight: search hits to ring. neighbours: neighbours of A to mark.
    Both default to the session's own lists when None.
    """

    colour_by: str | None = None
    filter_label: str | None = None
    filter_values: list[str] = field(default_factory=list)
    show_components: bool = True
    style: MapStyle = field(default_factory=MapStyle)
    only: list[int] | None = None
    highlight: list[Ref] | None = None
    neighbours: list[Ref] | None = None


def means_shown(ex: Explorer, model: str) -> tuple[bool, str]:
    """Whether a model's mixture means belong on maps of this corpus, and why not.

    The means were fitted to the training corpus; on another corpus they all
    land near the few items closest to them, a pile that says nothing.
    """
    trained = trained_corpus(ex.entry(model).model)
    if trained is None or trained == ex.corpus.name:
        return True, ""
    return False, f"Mixture means hidden: {model} was trained on the {trained!r} corpus, not on this one."


def _marks(proj: Projection, vectors: np.ndarray, names: list[str], refs: list[str]) -> Marks:
    return Marks(proj.transform(vectors) if len(vectors) else np.zeros((0, 2), np.float32), names, refs)


@dataclass
class PointTexts:
    """Each encoded item's label values (column -> N texts) and hover text (N, or none above
    HOVER_TEXT_MAX), in the entry's row order."""

    labels: dict[str, list[str]]
    hover: list[str]
    #: the entry's rows they were made for (an entry rebuilt with new rows gets new texts)
    rows: object = None


# explorer -> model -> its point texts. They change only with the corpus, and rebuilding them
# for every map took 0.2 s of each redraw at 3,600 items (a space switch waited on it).
_TEXTS: weakref.WeakKeyDictionary[Explorer, dict[str, PointTexts]] = weakref.WeakKeyDictionary()


def point_texts(ex: Explorer, model: str) -> PointTexts:
    """The label values and hover texts of a model's encoded items (memoised per explorer)."""
    per_model = _TEXTS.setdefault(ex, {})
    rows = ex.entry(model).rows
    texts = per_model.get(model)
    if texts is None or texts.rows is not rows:
        items = [ex.corpus.items[r] for r in rows]
        texts = PointTexts({c: [i.label(c) for i in items] for c in ex.labels},
                           [hover_text(i, ex.labels) for i in items] if len(items) <= HOVER_TEXT_MAX else [], rows)
        per_model[model] = texts
    return texts


def session_marks(session: Session) -> tuple:
    """What of a session `map_figure` draws (A, B, own sounds, search hits, neighbours,
    selection), as a hashable key: maps with the same view, options and marks are equal."""
    return (session.corpus, str(session.a), str(session.b), tuple((u.name, id(u)) for u in session.user),
            tuple(map(str, session.hits)), tuple(map(str, session.neighbours)), tuple(map(str, session.selection)))


def map_figure(ex: Explorer, model: str, space: str, params: ProjectionParams, opts: MapOptions,
               session: Session):
    """The map of one space: (plotly Figure, caption markdown)."""
    entry = ex.entry(model)
    proj = ex.projection(model, space, params)
    texts = point_texts(ex, model)
    labels = texts.labels
    visible = np.ones(len(entry.rows), dtype=bool)
    if opts.filter_label and opts.filter_values and opts.filter_label in labels:
        wanted = set(map(str, opts.filter_values))
        visible &= np.array([v in wanted for v in labels[opts.filter_label]], dtype=bool)
    if opts.only is not None:
        keep = {int(r) for r in opts.only}
        visible &= np.array([int(r) in keep for r in entry.rows], dtype=bool)
    points = MapPoints(proj.coords, [f"c:{r}" for r in entry.rows], labels, texts.hover, visible, rows=entry.rows)
    notes: list[str] = []
    components = None
    if opts.show_components:
        comps = entry.components(space)
        shown, why = means_shown(ex, model)
        if len(comps.means) and shown:
            label = entry.model.space(space).label or ""
            components = _marks(proj, comps.means, [value_text(label, n) for n in comps.labels],
                                [str(r) for r in comps.refs])
            notes.append(placement_note(proj, "mixture means"))
        elif len(comps.means):
            notes.append(why)
    extras = None
    if session.user:
        vecs = np.stack([entry.vector(Ref.user(j), space, session) for j in range(len(session.user))])
        extras = _marks(proj, vecs, [u.name for u in session.user], [f"u:{j}" for j in range(len(session.user))])
        notes.append(placement_note(proj, "your sounds"))
    highlight = ref_marks(ex, model, space, params, session.hits if opts.highlight is None else opts.highlight,
                           session)
    neighbours = ref_marks(ex, model, space, params,
                            session.neighbours if opts.neighbours is None else opts.neighbours, session)
    selection = ref_marks(ex, model, space, params, session.selection, session)
    selected = {slot: ex.point_xy(model, space, params, session.get(slot), session) for slot in ("A", "B")}
    scope = entry.model.space(space).scope
    title = f"{model} / {space} ({scope}{', time-averaged' if scope == 'local' else ''}) - {params.label()}"
    fig = latent_map(points, opts.colour_by, title, components, extras, selected,
                     uirevision=f"{model}/{space}/{params.key()}", style=opts.style,
                     highlight=highlight, neighbours=neighbours, selection=selection,
                     # the click bridge asks the server for this model's sound and neighbours in this space
                     meta={"model": model, "space": space})
    timing = "from cache" if proj.from_cache else f"fitted in {proj.seconds:.1f} s"
    caption = (f"{int(visible.sum()):,} of {len(entry.rows):,} items shown; map {timing}."
               + (f" Explained variance: {', '.join(f'{v:.0%}' for v in proj.explained)}." if proj.explained else "")
               + (" " + " ".join(notes) if notes else ""))
    return fig, caption


def ref_marks(ex: Explorer, model: str, space: str, params: ProjectionParams, refs: list[Ref],
              session: Session) -> Marks:
    """Where references sit on a map, with their names (those not on it left out)."""
    from disentangle.explore.describe import ref_name

    xy, names, texts = [], [], []
    for ref in refs:
        p = ex.point_xy(model, space, params, ref, session)
        if p is not None:
            xy.append(p)
            names.append(ref_name(ex, ref, session, model))
            texts.append(str(ref))
    return Marks(np.asarray(xy, np.float32).reshape(-1, 2), names, texts)


def mean_names(ex: Explorer, model: str, space: str) -> list[str]:
    """The names of a space's mixture means (class names, pitches as notes)."""
    return [component_name(ex, model, r) for r in ex.entry(model).components(space).refs]
