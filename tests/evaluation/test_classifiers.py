"""The CNN judges: they learn real labels, are seeded, and are cached on disk."""
from __future__ import annotations

import torch
from eval_fixtures import INSTRUMENTS, JUDGES, PITCHES, make_synthetic

from disentangle.evaluation.classifiers import ClassifierConfig, load_or_train, macro_f1, train_classifier

TINY = ClassifierConfig(channels=8, epochs=2)


def _split(data, column):
    classes = INSTRUMENTS if column == "instrument" else PITCHES
    y = torch.tensor([classes.index(it.label(column)) for it in data.items])
    train = torch.tensor([it.split == "train" for it in data.items])
    x = torch.from_numpy(data.x)
    return x[train], y[train], x[~train], y[~train], classes


def test_classifiers_learn_each_label(synthetic, judge_cache):
    for column in ("instrument", "pitch"):
        xtr, ytr, xte, yte, classes = _split(synthetic, column)
        clf = load_or_train(xtr, ytr, classes, judge_cache, column, JUDGES)
        assert macro_f1(clf, xte, yte) > 0.9


def test_classifier_cannot_learn_from_shuffled_labels(synthetic):
    xtr, ytr, xte, yte, classes = _split(synthetic, "instrument")
    shuffled = ytr[torch.randperm(len(ytr), generator=torch.Generator().manual_seed(0))]
    clf = load_or_train(xtr, shuffled, classes, None, "instrument", JUDGES)
    assert macro_f1(clf, xte, yte) < 0.6  # chance is 0.25


def test_cache_reused_and_keyed_by_data(synthetic, tmp_path):
    xtr, ytr, xte, _yte, classes = _split(synthetic, "pitch")
    first = load_or_train(xtr, ytr, classes, tmp_path, "pitch", TINY)
    files = sorted(tmp_path.glob("classifier-pitch-*.pt"))
    assert len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    again = load_or_train(xtr, ytr, classes, tmp_path, "pitch", TINY)
    assert files[0].stat().st_mtime_ns == mtime  # loaded, not retrained
    torch.testing.assert_close(first.predict_proba(xte), again.predict_proba(xte))
    other = make_synthetic(n_per_pair=4, seed=1)
    xo, yo, *_ = _split(other, "pitch")
    load_or_train(xo, yo, classes, tmp_path, "pitch", TINY)
    assert len(list(tmp_path.glob("classifier-pitch-*.pt"))) == 2  # other data, other file


def test_corrupt_cache_file_is_retrained_identically(synthetic, tmp_path):
    xtr, ytr, xte, _yte, classes = _split(synthetic, "instrument")
    load_or_train(xtr, ytr, classes, tmp_path, "instrument", TINY)
    path = next(tmp_path.glob("classifier-instrument-*.pt"))
    path.write_bytes(b"not a torch file")
    clf = load_or_train(xtr, ytr, classes, tmp_path, "instrument", TINY)
    assert torch.load(path, weights_only=True)["classes"] == classes
    # Seeded: a fresh training gives the very same weights.
    fresh = train_classifier(xtr, ytr, len(classes), TINY)
    torch.testing.assert_close(clf.predict_proba(xte), fresh.predict_proba(xte))


def test_augmented_recipe_is_seeded_label_keeping_and_off_for_unnormalised_features(synthetic):
    from types import SimpleNamespace

    from disentangle.features.config import FeatureConfig
    from disentangle.features.spectrogram import Normaliser

    xtr, ytr, _, _, classes = _split(synthetic, "instrument")
    feats = FeatureConfig()
    minmax = Normaliser.fit(torch.randn(4, feats.n_mels, 8), feats)
    cfg = TINY.for_model(SimpleNamespace(features=feats, normaliser=minmax))
    assert cfg.units_per_db and cfg.units_per_db > 0
    assert TINY.for_model(SimpleNamespace(features=feats, normaliser=None)).units_per_db is None
    a, b = train_classifier(xtr, ytr, len(classes), cfg), train_classifier(xtr, ytr, len(classes), cfg)
    plain = train_classifier(xtr, ytr, len(classes), TINY)
    sa, sb, sp = a.state_dict(), b.state_dict(), plain.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)  # seeded
    assert not all(torch.equal(sa[k], sp[k]) for k in sa)  # the augmentation changed what it saw
