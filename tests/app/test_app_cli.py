"""Command-line mistakes get one line, never a traceback or a freshly rendered corpus."""
from __future__ import annotations

import pytest

from disentangle.explore.corpora import CorpusNotFound, open_data, suggestions


def test_a_mistyped_corpus_is_not_rendered(tmp_path, capsys):
    """Defect 4: `--data data/note` rendered a new 286 MB corpus under the typo."""
    from main import main

    (tmp_path / "notes").mkdir()
    with pytest.raises(SystemExit) as exc:
        main(["--data", str(tmp_path / "note")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and not (tmp_path / "note").exists()
    assert "no such corpus" in err and str(tmp_path / "notes") in err and "did you mean" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_bad_checkpoint_and_data_paths_print_one_line(world, tmp_path, capsys):
    """Defect 8: bad command-line paths printed a traceback."""
    from main import main

    corpus, _ = world
    not_audio = tmp_path / "file.txt"
    not_audio.write_text("hello")
    with pytest.raises(SystemExit) as exc:
        main(["--data", str(not_audio)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):
        main(["--data", str(corpus.root), "--checkpoint", str(tmp_path / "missing.pt")])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "missing.pt" in captured.err


def test_open_data_suggests_and_names_builtins(tmp_path):
    (tmp_path / "phrases").mkdir()
    assert suggestions(tmp_path / "phrase")[0] == str(tmp_path / "phrases")
    with pytest.raises(CorpusNotFound, match="no such corpus"):
        open_data(tmp_path / "nothing-like-it")
