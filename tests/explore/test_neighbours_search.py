"""Nearest neighbours per space and across spaces; search by name fragment or label value."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from disentangle.explore.neighbours import ALL_SPACES
from disentangle.explore.refs import Ref
from disentangle.explore.session import Session


def test_neighbours_in_a_space_are_the_exact_nearest(explorer):
    entry = explorer.entry("tiny")
    index = explorer.neighbours("tiny")
    found = index.nearest(Ref.corpus(4), "timbre", 5, Session())
    assert [n.rank for n in found] == [1, 2, 3, 4, 5] and Ref.corpus(4) not in [n.ref for n in found]
    d = np.linalg.norm(entry.flat["timbre"] - entry.flat["timbre"][entry.row_of[4]], axis=1)
    d[entry.row_of[4]] = np.inf
    expected = sorted(d)[:5]
    assert np.allclose([n.distance for n in found], expected, atol=1e-5)
    assert all(a.distance <= b.distance for a, b in itertools.pairwise(found))


def test_neighbours_across_all_spaces_and_of_own_sounds(explorer, world):
    from disentangle.explore import actions

    index = explorer.neighbours("tiny")
    joint = index.nearest(Ref.corpus(0), ALL_SPACES, 3, Session())
    assert len(joint) == 3 and index.vectors(ALL_SPACES).shape == (36, 3 + 2 + 2)
    s = Session()
    corpus, _ = world
    ref, _ = actions.encode_upload(explorer, s, str(corpus.root / "audio/square_55_mf.wav"), "mine")
    near = index.nearest(ref, "pitch", 2, s)
    assert len(near) == 2 and near[0].distance <= near[1].distance
    with pytest.raises(ValueError, match="between 1 and 100"):
        index.nearest(Ref.corpus(0), "pitch", 0, s)
    with pytest.raises(ValueError, match="no latent space"):
        index.nearest(Ref.corpus(0), "nope", 3, s)


def test_search_by_name_fragment_label_and_note_name(explorer):
    names = lambda refs: {explorer.corpus.items[r.index].path for r in refs}
    assert names(explorer.search("saw_60")) == {"audio/saw_60_pp.wav", "audio/saw_60_mf.wav", "audio/saw_60_ff.wav"}
    assert len(explorer.search("square")) == 12 and len(explorer.search("ff")) == 12
    assert names(explorer.search("sine C4 ff")) == {"audio/sine_60_ff.wav"}  # 60 is C4
    assert explorer.search("SAW, G4 pp") == explorer.search("saw 67 pp")
    assert explorer.search("violin") == []
    with pytest.raises(ValueError, match="type part"):
        explorer.search("  ")
