"""Typed references: parsed once at the UI boundary, strict about what they accept."""
from __future__ import annotations

import pytest

from disentangle.explore.refs import Ref, as_ref, parse_click


def test_text_round_trips():
    for text in ("c:0", "c:12", "u:3", "k:timbre:7", "k:pitch-2:0"):
        assert str(Ref.parse(text)) == text
    assert Ref.parse("k:timbre:7") == Ref.component("timbre", 7)
    assert parse_click("c:5|1700000000") == Ref.corpus(5)
    assert parse_click("") is None and parse_click(None) is None
    assert as_ref("u:1") == Ref.user(1) and as_ref(Ref.corpus(2)) == Ref.corpus(2)


@pytest.mark.parametrize("bad", ["<script>", "c:-1", "c:", "x:1", "k:timbre", "c:1:2", "k::3", "c:1e3"])
def test_bad_text_is_refused_with_the_text_named(bad):
    with pytest.raises(ValueError, match="not a point reference"):
        Ref.parse(bad)


def test_inconsistent_refs_cannot_be_built():
    with pytest.raises(ValueError):
        Ref("corpus", -1)
    with pytest.raises(ValueError):
        Ref("component", 1)
    with pytest.raises(ValueError):
        Ref("user", 1, "timbre")
