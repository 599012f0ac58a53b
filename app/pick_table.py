"""The neighbour and search tables as plain HTML rows the page can pick from.

They were `gr.Dataframe`s: Gradio 6's table is virtualised and laid out over
several frames, so a click's neighbours, in the page 170 ms after the click,
were listed only ~240 ms later (Chromium, 9,825 points; issue 11 asks <= 300 ms
from the click). An HTML table is written in one go. Each row carries its
point's reference (`data-ref`); bridge.js sends a picked row's reference to a
hidden box, which plays it as a map click's reference would.
"""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

#: What an empty table says.
EMPTY = '<p class="pick-empty">{}</p>'


def pick_table(columns: Sequence[str], rows: Sequence[Sequence[object]], refs: Sequence[str],
               empty: str = "nothing listed") -> str:
    """HTML of a table whose row i picks point refs[i] (rows and refs of equal length)."""
    if len(rows) != len(refs):
        raise ValueError(f"{len(rows)} rows but {len(refs)} references")
    if not rows:
        return EMPTY.format(escape(empty))
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join(
        f'<tr data-ref="{escape(str(ref), quote=True)}" tabindex="0">'
        + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
        for row, ref in zip(rows, refs))
    return f'<table class="pick-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def picked_ref(value: object) -> str:
    """The reference in a pick box's value ("<ref>|<time stamp>"), "" when there is none."""
    return str(value or "").split("|", 1)[0].strip()
