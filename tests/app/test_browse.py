"""Neighbours, search, selection and latent export through the app's handlers (no browser)."""
from __future__ import annotations

import csv
import json
import re
import zipfile

import numpy as np
import pytest

from disentangle.explore.refs import Ref
from disentangle.explore.session import Session

MAP = ("tiny", "timbre", "PCA", 15, 0.1, 30, 1, 2)


@pytest.fixture(scope="module")
def bh(explorer):
    from browse_handlers import BrowseHandlers
    from ui_handlers import Handlers

    return BrowseHandlers(Handlers(explorer, "pca"))


def table_rows(html: str) -> list[tuple[str, list[str]]]:
    """(data-ref, cell texts) of each body row of a pick table."""
    body = html.split("<tbody>", 1)[1] if "<tbody>" in html else ""
    return [(row.split('"', 1)[0], re.findall(r"<td>(.*?)</td>", row)) for row in body.split('<tr data-ref="')[1:]]


def test_neighbours_listed_by_name_marked_and_playable(bh):
    s = Session(a=Ref.corpus(4))
    table, marks, s = bh.neighbours("tiny", "timbre", "map space", 5, *MAP[2:], s)
    rows = table_rows(table)
    assert [r[1][0] for r in rows] == ["1", "2", "3", "4", "5"] and all("_" in r[1][1] and r[1][2] for r in rows)
    assert [r[0] for r in rows] == [str(n) for n in s.neighbours]  # each row picks its neighbour
    assert len(json.loads(marks)["x"]) == 5 and len(s.neighbours) == 5
    table_all, _, s = bh.neighbours("tiny", "timbre", "all spaces", 3, *MAP[2:], s)
    assert len(table_rows(table_all)) == 3
    out = bh.play_neighbour("tiny", f"{s.neighbours[1]}|123", "reconstruction", s)
    assert out[5].b == s.neighbours[1] and out[0][1].dtype == np.int16
    first = bh.step_neighbour("tiny", "n|1", "reconstruction", out[5])[5]
    assert first.b == s.neighbours[2]
    back = bh.step_neighbour("tiny", "p|2", "reconstruction", first)[5]
    assert back.b == s.neighbours[1]
    # an empty pick changes nothing; a hostile one gets render_point's message
    assert all(isinstance(o, dict) and o.get("__type__") == "update"
               for o in bh.play_neighbour("tiny", "|1", "reconstruction", back))
    with pytest.warns(UserWarning, match="not an item of the corpus"):
        bh.play_neighbour("tiny", "c:999999|1", "reconstruction", back)
    empty, _, _ = bh.neighbours("tiny", "timbre", "map space", 5, *MAP[2:], Session())
    assert table_rows(empty) == [] and "no A yet" in empty


def test_pick_tables_escape_names_and_need_one_reference_per_row():
    from pick_table import pick_table, picked_ref

    html = pick_table(["name"], [["<b>x</b> & y"]], ['c:1" onclick="x'])
    assert "<b>x" not in html and "&lt;b&gt;x&lt;/b&gt; &amp; y" in html and 'onclick="x' not in html
    with pytest.raises(ValueError, match="2 rows but 1"):
        pick_table(["a"], [[1], [2]], ["c:1"])
    assert picked_ref("c:12|1700000") == "c:12" and picked_ref(None) == ""


def test_search_lists_marks_and_picks(bh):
    table, marks, summary, s = bh.search("saw ff", *MAP, Session())
    rows = table_rows(table)
    assert len(rows) == 4 and all(r[1][1].startswith("saw_") and r[1][1].endswith("_ff") for r in rows)
    assert len(json.loads(marks)["refs"]) == 4 and "4 items match" in summary
    out = bh.pick_hit("tiny", f"{s.hits[2]}|5", "A", "reconstruction", s)
    assert out[5].a == s.hits[2]
    with pytest.warns(UserWarning, match="type part"):
        bh.search("", *MAP, Session())


def test_selection_plays_exports_and_filters(bh, handlers_project):
    md, s = bh.selected("c:0,c:3,u:0,<x>,c:99999,c:5|123", Session())
    assert s.selection == [Ref.corpus(0), Ref.corpus(3), Ref.corpus(5)] and "3 selected" in md
    sr, audio = bh.play_selection("tiny", s)
    assert sr == 8000 and len(audio) > 3 * 1920
    with open(bh.export_selection("csv", s)) as f:
        rows = list(csv.reader(f))
    assert rows[0][:2] == ["path", "name"] and [r[1] for r in rows[1:]] == ["sine_48_pp", "sine_55_pp", "sine_55_ff"]
    with zipfile.ZipFile(bh.export_selection("zip", s)) as z:
        assert sorted(z.namelist()) == ["audio/sine_48_pp.wav", "audio/sine_55_ff.wav", "audio/sine_55_pp.wav"]
    _fig, caption = handlers_project(s, only_selection=True)
    assert caption.startswith("3 of 36 items shown")
    assert bh.clear_selection(s)[1].selection == []


def test_latent_export_csv_and_npz(bh):
    _, s = bh.selected("c:1,c:2", Session())
    path = bh.export_latents("tiny", "whole corpus", "csv", s)
    with open(path) as f:
        rows = list(csv.reader(f))
    assert len(rows) == 37 and rows[0][-1] == "motion_1" and "timbre_0" in rows[0]
    npz = np.load(bh.export_latents("tiny", "selection", "npz", s))
    assert npz["timbre"].shape == (2, 3) and npz["motion"].shape == (2, 8, 2)
    assert list(npz["paths"]) == ["audio/sine_48_mf.wav", "audio/sine_48_ff.wav"]
    with pytest.warns(UserWarning, match="select points"):
        bh.export_latents("tiny", "selection", "csv", Session())


@pytest.fixture
def handlers_project(bh):
    def project(session, only_selection=False):
        return bh.base.project("tiny", "timbre", "PCA", 15, 0.1, 30, 1, 2, "instrument", "", [], True, session,
                               6, 0.7, only_selection)
    return project
