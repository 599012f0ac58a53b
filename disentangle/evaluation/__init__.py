"""Disentanglement metrics: probes, k-NN, synthesis and transfer scores, reports.

`evaluate(model, data, split)` computes the whole report; `encode_dataset` is
the batched encoder the app reuses; `report_to_markdown` renders a report.
"""
from disentangle.evaluation.latents import decode_batched, encode_dataset, reconstruction_mse
from disentangle.evaluation.report import report_to_markdown, write_report
from disentangle.evaluation.runner import EvalConfig, FrameLabelFn, evaluate

__all__ = ["EvalConfig", "FrameLabelFn", "decode_batched", "encode_dataset", "evaluate",
           "reconstruction_mse", "report_to_markdown", "write_report"]
