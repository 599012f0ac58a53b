"""The evaluation report as Markdown, and reading/writing it beside the JSON.

Report keys (all written by `disentangle.evaluation.evaluate`):
- `recon_mse`: MSE per time-frequency bin of the posterior-mean reconstruction
  on the evaluated split (normalised features);
- `probe_f1` / `knn_acc`: {space: {label: score}} of a linear probe (macro-F1)
  and a 5-NN classifier (accuracy), trained on the train split's latents;
- `frame_wise`: {space: [labels scored frame by frame]};
- `components`: "prior", "class-means" or "mixed" (`components_by_space`);
- `subsets`: corpora with GM drums only: {"pitched" | "unpitched": {"n_train",
  "n_eval", "probe_f1", "knn_acc", "frame_wise"}} (`subsets.subset_scores`);
- `classifiers`: {label: {"f1", "recon_f1", "classes"}} macro-F1 of the CNN
  judges on real features of the evaluated split and on their posterior-mean
  reconstructions (the ceiling for decoded spectrograms);
- `synthesis`: {"w=0": {"instrument_f1", "pitch_f1"}, ...};
- `transfer`: {"alpha=0": {"target_prob", "target_acc", "pitch_kept"}, ...};
- `swaps`: models with global (v) and local (z) spaces: instrument F1, raw
  pitch accuracy and Frechet distances of Recon., v-swap, z-swap and
  random-v outputs (Luo et al. 2024 Table 1; see `swaps.swap_scores`);
- `cross_source`: {held corpus: section} of `cross_source.cross_source`
  (read-outs fitted on the training corpus, scored on a source never trained on);
- `seconds`: wall time per stage.
"""
from __future__ import annotations

import json
from pathlib import Path


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return lines


def _steps(section: dict, prefix: str) -> list[str]:
    """Keys like "w=0", "w=0.5" in numeric order."""
    keys = [k for k in section if k.startswith(prefix + "=")]
    return sorted(keys, key=lambda k: float(k.split("=", 1)[1]))


def report_to_markdown(report: dict) -> str:
    """A short Markdown summary of an evaluation report (tables of the same figures)."""
    model = report.get("model", {})
    out = [f"# Evaluation of `{model.get('model', '?')}` on split `{report.get('split', '?')}`", ""]
    if report.get("checkpoint"):
        out += [f"Checkpoint: `{report['checkpoint']}`", ""]
    out += [f"Items: {report.get('n_train', '?')} train, {report.get('n_eval', '?')} evaluated. "
            f"Reconstruction MSE per bin (normalised): **{_fmt(report.get('recon_mse'))}**.", ""]

    f1, acc = report.get("probe_f1", {}), report.get("knn_acc", {})
    labels = sorted({c for d in list(f1.values()) + list(acc.values()) for c in d})
    if labels:
        out += ["## What each latent space knows", "",
                "Linear-probe macro-F1 / 5-NN accuracy, trained on the train split's latent means.", ""]
        rows = [[space] + [f"{_fmt(f1.get(space, {}).get(c))} / {_fmt(acc.get(space, {}).get(c))}"
                           for c in labels] for space in sorted(set(f1) | set(acc))]
        out += _table(["space"] + labels, rows) + [""]
        if report.get("frame_wise"):
            out += [f"Scored frame by frame: {report['frame_wise']}.", ""]

    if report.get("subsets"):
        from disentangle.evaluation.subsets import subsets_markdown
        out += subsets_markdown(report["subsets"])

    clfs = report.get("classifiers")
    if clfs:
        out += ["## Judges (CNNs trained on real features)", ""]
        out += _table(["label", "classes", "macro-F1 on real data", "on reconstructions"],
                      [[k, v.get("classes"), v.get("f1"), v.get("recon_f1")] for k, v in clfs.items()]) + [""]
    out += [f"Components: {report.get('components', '-')} "
            f"({', '.join(f'{k}: {v}' for k, v in report.get('components_by_space', {}).items())}).", ""]

    syn = report.get("synthesis") or {}
    if syn:  # absent when the run turned synthesis off
        out += ["## Controllable synthesis (z = mu + w sigma eps)", ""]
    if "skipped" in syn:
        out += [f"Skipped: {syn['skipped']}.", ""]
    elif syn:
        if "targets" in syn:
            left = f", {syn['left_out']} left out (no component)" if syn.get("left_out") else ""
            out += [f"Targets: the instrument and pitch of {syn['targets']} evaluated items{left}; "
                    f"{syn.get('repeats')} samples of each at w > 0, one at w = 0.", ""]
        out += _table(["w", "instrument F1", "pitch F1"],
                      [[k.split("=")[1], syn[k].get("instrument_f1"), syn[k].get("pitch_f1")]
                       for k in _steps(syn, "w")]) + [""]
    tr = report.get("transfer") or {}
    if tr:
        out += ["## Timbre transfer (z_t + alpha (mu_target - mu_source))", ""]
    if "skipped" in tr:
        out += [f"Skipped: {tr['skipped']}.", ""]
    elif tr:
        out += _table(["alpha", "target prob.", "target acc.", "pitch kept"],
                      [[k.split("=")[1], tr[k].get("target_prob"), tr[k].get("target_acc"),
                        tr[k].get("pitch_kept")] for k in _steps(tr, "alpha")]) + [""]
    if report.get("swaps"):
        from disentangle.evaluation.swaps import swaps_markdown
        out += swaps_markdown(report["swaps"])
    if report.get("cross_source"):
        from disentangle.evaluation.cross_source import cross_source_markdown
        out += cross_source_markdown(report["cross_source"])
    if report.get("seconds"):
        out += ["Wall time (s): " + ", ".join(f"{k} {v}" for k, v in report["seconds"].items()), ""]
    return "\n".join(out)


def write_report(report: dict, path: str | Path) -> tuple[Path, Path]:
    """Write `report` as JSON to `path` and as Markdown beside it (report.json -> report.md).

    Returns (json path, markdown path).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    md = path.with_suffix(".md") if path.suffix != ".md" else path.with_name(path.name + ".md")
    md.write_text(report_to_markdown(report) + "\n")
    return path, md
