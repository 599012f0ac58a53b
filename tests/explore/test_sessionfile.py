"""Session files and links: round trip, and one clear message for each bad or hostile file (issue 11)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from disentangle.explore.projection import ProjectionParams
from disentangle.explore.refs import Ref
from disentangle.explore.session import Session
from disentangle.explore.sessionfile import (
    MAX_FILE_BYTES,
    SavedView,
    check_view,
    from_query,
    read_view,
    to_query,
)
from disentangle.explore.validate import UserError


def _view() -> SavedView:
    s = Session(a=Ref.corpus(3), b=Ref.user(0), selection=[Ref.corpus(1), Ref.corpus(2)])
    s.add_user_sound("my take", np.linspace(-0.5, 0.5, 800, dtype=np.float32), 8000)
    return SavedView.of(s, "tiny", "pitch", ProjectionParams("umap", 30, 0.25))


def _check(view: SavedView) -> None:
    check_view(view, ["tiny"], ["timbre", "pitch", "motion"], 36, {"timbre": 3, "pitch": 0, "motion": 0})


def test_round_trip_through_a_file(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(_view().to_json())
    view = read_view(path)
    _check(view)
    assert (view.model, view.space, view.a, view.b) == ("tiny", "pitch", "c:3", "u:0")
    assert view.params() == ProjectionParams("umap", 30, 0.25)
    s = view.session()
    assert s.a == Ref.corpus(3) and s.selection == [Ref.corpus(1), Ref.corpus(2)]
    assert s.user[0].name == "my take" and s.user[0].sample_rate == 8000
    assert np.allclose(s.user[0].clip, np.linspace(-0.5, 0.5, 800), atol=1e-4)


def test_round_trip_through_a_link():
    q = to_query(_view())
    assert q["sel"] == "1.2" and "b" not in q  # own sounds do not travel in a link
    view = from_query(q)
    _check(view)
    assert (view.space, view.a, view.selection) == ("pitch", "c:3", ["c:1", "c:2"])
    assert view.params() == ProjectionParams("umap", 30, 0.25)
    assert from_query({}) is None
    pca = from_query({"model": "tiny", "space": "timbre", "projection": "method=pca,pcs=2x3"})
    assert pca.params() == ProjectionParams("pca", pcs=(2, 3))


@pytest.mark.parametrize("content, words", [
    (b"\x89PNG\r\n\x1a\n", "not JSON"),
    (b"[1, 2, 3]", "not a disentangle session"),
    (b'{"format": "disentangle-session", "version": 99}', "newer explorer"),
    (b'{"format": "disentangle-session", "version": "1"}', "version must be"),
    (b"[" * 100000, "not JSON"),
])
def test_bad_files_get_one_clear_message(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(UserError, match=words):
        read_view(path)


def _edited(tmp_path, **changes):
    d = json.loads(_view().to_json())
    d.update(changes)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(d))
    return read_view(path)


@pytest.mark.parametrize("changes, words", [
    ({"model": "gmvae"}, "not open here"),
    ({"space": "loudness"}, "no latent space"),
    ({"a": "c:36"}, "outside the corpus"),
    ({"selection": ["c:0", "c:999999"]}, "outside the corpus"),
    ({"b": "u:3"}, "own sound #3"),
    ({"a": "k:timbre:7"}, "no such mixture component"),
])
def test_names_and_references_are_checked(tmp_path, changes, words):
    with pytest.raises(UserError, match=words):
        _check(_edited(tmp_path, **changes))


@pytest.mark.parametrize("changes, words", [
    ({"a": "../../etc/passwd"}, "not a reference"),
    ({"projection": {"method": "umap", "n_neighbors": 7}}, "n_neighbors must be one of"),
    ({"projection": {"method": "pca", "pcs": [1, 1e9]}}, "PCA pcs"),
    ({"selection": ["c:1"] * 6000}, "at most 5000"),
    ({"sounds": [{"name": "x", "sample_rate": 8000, "pcm16_base64": "!!"}]}, "not base64"),
    ({"sounds": [{"name": "x", "sample_rate": 10**9, "pcm16_base64": "AAA="}]}, "sample rate"),
])
def test_hostile_values_are_refused(tmp_path, changes, words):
    with pytest.raises(UserError, match=words):
        _edited(tmp_path, **changes)


def test_oversized_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(UserError, match="at most"):
        read_view(path)
