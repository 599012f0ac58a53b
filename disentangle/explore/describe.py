"""Words for what the explorer shows: item names, label values, references, notes.

Presentation only: the core (`entry`, `explorer`) never formats prose. Names,
not indices: an item is its file name, a pitch is a note name ("C4"), a
mixture component is the class it stands for.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from disentangle.data.schema import Item
from disentangle.explore.names import item_name, value_text
from disentangle.explore.refs import Ref
from disentangle.explore.session import Session

if TYPE_CHECKING:
    from disentangle.explore.explorer import Explorer
    from disentangle.explore.projection import Projection

def item_labels(item: Item, labels: list[str]) -> str:
    """"violin, C4, mf" (unknown values left out)."""
    return ", ".join(value_text(c, item.label(c)) for c in labels if item.label(c))


def hover_text(item: Item, labels: list[str]) -> str:
    parts = [f"{c}: {value_text(c, item.label(c))}" for c in labels if item.label(c)]
    return f"<b>{item_name(item)}</b><br>{' · '.join(parts)}"


def component_name(ex: Explorer, model: str, ref: Ref) -> str:
    """The class a mixture component stands for, e.g. "violin" or "C4"."""
    entry = ex.entry(model)
    comps = entry.components(ref.space or "")
    label = entry.model.space(ref.space or "").label or ""
    name = comps.labels[ref.index] if ref.index < len(comps.labels) else str(ref.index)
    return value_text(label, name)


def describe_ref(ex: Explorer, ref: Ref | None, session: Session | None = None, model: str | None = None) -> str:
    """A one-line markdown description of a reference."""
    if ref is None:
        return "nothing"
    if ref.kind == "corpus":
        if not ref.index < len(ex.corpus.items):
            return f"corpus item #{ref.index} (not in this corpus)"
        item = ex.corpus.items[ref.index]
        return f"**{item_name(item)}** ({item_labels(item, ex.labels) or 'no labels'})"
    if ref.kind == "user":
        users = session.user if session is not None else []
        return f"your sound **{users[ref.index].name}**" if ref.index < len(users) else f"your sound #{ref.index}"
    model = model or ex.model_names[0]
    try:
        name = component_name(ex, model, ref)
    except (ValueError, KeyError):
        name = str(ref.index)
    return f"the mixture mean of **{name}** in {ref.space}"


def ref_name(ex: Explorer, ref: Ref | None, session: Session | None = None, model: str | None = None) -> str:
    """A short plain name for file names and captions: "sine_55_ff", "mine", "violin mean"."""
    if ref is None:
        return ""
    if ref.kind == "corpus" and ref.index < len(ex.corpus.items):
        return item_name(ex.corpus.items[ref.index])
    if ref.kind == "user" and session is not None and ref.index < len(session.user):
        return session.user[ref.index].name
    if ref.kind == "component":
        try:
            return f"{component_name(ex, model or ex.model_names[0], ref)} mean"
        except (ValueError, KeyError):
            pass
    return str(ref)


def selection_md(ex: Explorer, session: Session, model: str | None = None) -> str:
    return (f"**A:** {describe_ref(ex, session.a, session, model)}  \n"
            f"**B:** {describe_ref(ex, session.b, session, model)}")


def placement_note(proj: Projection, what: str) -> str:
    """How points that were not fitted (means, own sounds) are placed on a map."""
    what = what[0].upper() + what[1:]
    if proj.placement == "exact":
        return f"{what} are projected with the fitted PCA."
    return (f"{what} are placed by averaging the positions of their 10 nearest corpus points in latent "
            f"space ({proj.params.label().split(' ')[0]} has no transform for new points here).")


def corpus_summary(ex: Explorer) -> str:
    """"Corpus **notes**: 3,636 items (6 files could not be read)": the count the maps show."""
    entries = list(ex.entries.values())
    readable = len(entries[0].rows) if entries else len(ex.corpus)
    unreadable = len(ex.corpus) - readable
    note = f" ({unreadable} files could not be read)" if unreadable else ""
    return f"Corpus **{ex.corpus.name}**: {readable:,} items{note}"


def probe_source(model) -> str:
    """Where a checkpoint's probe scores come from, e.g. "the test split of the notes corpus (364 items)"."""
    corpus = (model.meta.get("corpus") or {}).get("name")
    split = model.report.get("split")
    n = model.report.get("n_eval")
    if not (corpus or split):
        return ""
    where = f"the {split} split" if split else "a split"
    return where + (f" of the {corpus} corpus" if corpus else "") + (f" ({n} items)" if n else "")
