"""Cepstral liftering: split a log spectrum into envelope and fine structure.

The real cepstrum of a frame's log-magnitude spectrum separates slowly varying
structure along frequency (the spectral envelope: formants, timbre) at low
quefrency from fast periodic structure (harmonic partials: pitch) at high
quefrency. Tanaka et al. feed the envelope of a pitch-shifted spectrogram to
their timbre/variation encoders and the fine structure of a timbre-distorted
one to their pitch encoder, cutting at the 100th coefficient (44.1 kHz,
n_fft 4096). Coefficient q is a quefrency of q / sample_rate seconds whatever
n_fft is, and a harmonic sound at f0 has its first cepstral peak near
q = sample_rate / f0; so the cut-off 100 is 2.3 ms at 44.1 kHz (pitches above
~440 Hz leak into the envelope) but 4.5 ms at 22.05 kHz (above ~220 Hz).
Scale it by sample_rate / 44100 to keep Tanaka's split.

Liftering is linear in the log spectrum, so it gives the same split (up to the
constant, which goes to the envelope) for any affinely scaled log features:
"log" or "db" scale, normalised or not.
"""
from __future__ import annotations

import torch
from torch import Tensor


def real_cepstrum(log_mag: Tensor) -> Tensor:
    """Real cepstrum of one-sided log spectra along the bin axis.

    log_mag: (..., K, T) with K = n_fft//2 + 1. Returns (..., n_fft, T): the
    even (symmetric) real sequence whose spectrum is the two-sided log_mag.
    """
    k = log_mag.shape[-2]
    return torch.fft.irfft(log_mag, n=2 * (k - 1), dim=-2)


def lifter_window(n: int, cutoff: int, device: torch.device | str | None = None) -> Tensor:
    """Low-quefrency lifter of a length-n cepstrum: 1 for |q| < cutoff, else 0.

    Symmetric (q and n - q) so the liftered spectrum stays real. Returns (n,).
    """
    q = torch.arange(n, device=device)
    return ((q < cutoff) | (n - q < cutoff)).float()


def lifter(log_mag: Tensor, cutoff: int = 100) -> tuple[Tensor, Tensor]:
    """Split log spectra into spectral envelope and fine structure.

    log_mag: (..., K, T) log-magnitude (or any affinely scaled log) spectra
      over K = n_fft//2 + 1 linear-frequency bins; K >= 2.
    cutoff: first cepstral coefficient counted as fine structure (Tanaka: 100).
      A cutoff of K or more puts everything in the envelope.
    Returns (envelope, fine), each (..., K, T), with envelope + fine == log_mag
    (up to float rounding).
    """
    if log_mag.shape[-2] < 2:
        raise ValueError(f"need at least 2 frequency bins along dim -2, got shape {tuple(log_mag.shape)}")
    if cutoff < 1:
        raise ValueError(f"cutoff must be >= 1 (got {cutoff}); 1 keeps only the mean in the envelope")
    x = log_mag.float()
    ceps = real_cepstrum(x)
    n = ceps.shape[-2]
    w = lifter_window(n, cutoff, x.device).unsqueeze(-1)  # (n, 1) broadcasts over frames
    envelope = torch.fft.rfft(ceps * w, dim=-2).real
    fine = torch.fft.rfft(ceps * (1.0 - w), dim=-2).real
    return envelope, fine
