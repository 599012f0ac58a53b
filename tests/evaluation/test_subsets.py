"""Pitched / unpitched rows (Tanaka 2022 Table II) of the evaluation report."""
import numpy as np

from disentangle.data.schema import Item
from disentangle.evaluation.probes import ProbeConfig
from disentangle.evaluation.report import report_to_markdown
from disentangle.evaluation.subsets import subset_scores, subsets_markdown, unpitched


def _corpus(n_per: int, seed: int) -> tuple[list[Item], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Two pitched instruments, well apart in the timbre space, and two drums that overlap."""
    rng = np.random.default_rng(seed)
    items, z, inst = [], [], []
    for k, (name, family, centre) in enumerate((("violin", "strings", 0.0), ("flute", "pipe", 10.0),
                                                ("kick", "percussion", 20.0), ("snare", "percussion", 20.0))):
        for i in range(n_per):
            pitch = -1 if family == "percussion" else 60 + i % 2
            items.append(Item(path=f"{name}{i}.wav", instrument=name, family=family, pitch=pitch))
            z.append(rng.normal(centre, 1.0, size=4))
            inst.append(k)
    pitch = np.array([it.pitch - 60 if it.pitch >= 0 else -1 for it in items])
    return items, {"timbre": np.array(z)}, {"instrument": np.array(inst), "pitch": pitch}


def test_pitched_rows_leave_the_drums_out_and_unpitched_rows_score_only_drums():
    tr_items, ztr, ytr = _corpus(20, 0)
    te_items, zte, yte = _corpus(10, 1)
    out = subset_scores(ztr, zte, ytr, yte, tr_items, te_items, set(), None, ProbeConfig())
    assert set(out) == {"pitched", "unpitched"}
    assert out["pitched"]["n_train"] == 40 and out["pitched"]["n_eval"] == 20
    assert out["unpitched"]["n_train"] == 80 and out["unpitched"]["n_eval"] == 20
    # The pitched instruments are apart: perfect; the two drums overlap: about chance between them.
    assert out["pitched"]["knn_acc"]["timbre"]["instrument"] == 1.0
    assert out["unpitched"]["knn_acc"]["timbre"]["instrument"] < 0.8
    assert "pitch" not in out["unpitched"]["knn_acc"]["timbre"]  # a drum has no pitch label
    md = "\n".join(subsets_markdown(out))
    assert "pitched" in md and "unpitched" in md and "1.000" in md


def test_no_rows_without_drums_and_the_report_shows_them_when_present():
    items, z, y = _corpus(10, 0)
    keep = ~unpitched(items)
    pitched = [it for it, k in zip(items, keep) if k]
    zz = {"timbre": z["timbre"][keep]}
    yy = {c: v[keep] for c, v in y.items()}
    assert subset_scores(zz, zz, yy, yy, pitched, pitched, set(), None, ProbeConfig()) == {}
    te_items, zte, yte = _corpus(10, 1)
    sub = subset_scores(z, zte, y, yte, items, te_items, set(), None, ProbeConfig())
    assert "Pitched and unpitched notes" in report_to_markdown({"subsets": sub})
