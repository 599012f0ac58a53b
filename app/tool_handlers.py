"""The tool tabs' handlers (sweep, interpolate, swap, move toward, sample, grid): each renders
a strip of steps, remembers its clips in the user's session and plays them all.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
from errors import user_errors
from handler_base import ALL_SPACES, ANY, SWEEP_UNITS, HandlerBase, audio_out, fresh

from disentangle.explore import actions
from disentangle.explore import validate as v
from disentangle.explore.session import Clip, Session
from disentangle.explore.strips import strip_figure


class ToolHandlers(HandlerBase):
    """Sweep, interpolate, swap, toward, sample and grid: UI values in, a strip and its audio out."""

    def _strip_outputs(self, model: str, r: actions.Rendering, session: Session, panel: str, label: str):
        """(strip figure, step picker, all-steps audio, step audio, info, session).

        panel: the tab ("sweep"), whose step picker plays from `session.steps`;
        label: what the exported clips are called ("sweep timbre3 of sine_55_ff").
        Only the all-steps clip plays; the step player stays empty until a step is picked.
        """
        for cap, clip in zip(r.captions, r.clips):
            session.remember(f"{label} {cap}", Clip(r.sample_rate, clip))
        session.remember(f"{label} (all steps)", Clip(r.sample_rate, r.joined()))
        session.set_steps(panel, {cap: Clip(r.sample_rate, c) for cap, c in zip(r.captions, r.clips)})
        fig = strip_figure(r.features, r.captions, self.ex_of(model).entry(model).interface.cfg, r.columns)
        return (fig, gr.update(choices=r.captions, value=None), audio_out(Clip(r.sample_rate, r.joined())),
                None, r.info, session)

    # --- operations ----------------------------------------------------------
    @user_errors(6, message_at=4)
    def sweep(self, model, space, dim, lo, hi, steps, unit, session):
        session = fresh(session)
        model = self.model(model)
        space = self.space(model, space)
        unit = v.choice(unit, "values are", SWEEP_UNITS)
        dim = self.dim(model, space, dim)
        r = actions.sweep(self.ex_of(model), model, session, session.a, space, dim,
                          v.number(lo, "from", v.SWEEP_VALUE), v.number(hi, "to", v.SWEEP_VALUE),
                          v.integer(steps, "steps", v.STEPS), "std" if unit.startswith("prior") else "value")
        return self._strip_outputs(model, r, session, "sweep",
                                   f"sweep {space}{dim} of {self._name(session.a, session, model)}")

    @user_errors(6, message_at=4)
    def interpolate(self, model, space, lo, hi, steps, session):
        session = fresh(session)
        model = self.model(model)
        space = None if space in (None, "", ALL_SPACES) else self.space(model, space)
        r = actions.interpolate(self.ex_of(model), model, session, space, v.number(lo, "alpha from", v.ALPHA),
                                v.number(hi, "alpha to", v.ALPHA), v.integer(steps, "steps", v.STEPS))
        a, b = self._name(session.a, session, model), self._name(session.b, session, model)
        return self._strip_outputs(model, r, session, "interpolate", f"interpolation of {a} to {b}")

    @user_errors(6, message_at=4)
    def swap(self, model, space, session):
        session = fresh(session)
        model = self.model(model)
        space = self.space(model, space)
        r = actions.swap(self.ex_of(model), model, session, space)
        a, b = self._name(session.a, session, model), self._name(session.b, session, model)
        return self._strip_outputs(model, r, session, "swap", f"swap {space} of {a} and {b}")

    def targets(self, model, space):
        names = list(actions.class_targets(self.ex_of(model), model, space))
        return gr.update(choices=names, value=names[0] if names else None)

    @user_errors(6, message_at=4)
    def toward(self, model, space, target, alpha, session):
        session = fresh(session)
        model = self.model(model)
        space = self.space(model, space)
        if not target:
            raise ValueError(f"{space} has no mixture means or class averages to move toward")
        target = v.text(target, "target")
        alpha = v.number(alpha, "alpha", v.TOWARD_ALPHA)
        r = actions.toward(self.ex_of(model), model, session, space, target, alpha)
        return self._strip_outputs(model, r, session, "toward",
                                   f"{self._name(session.a, session, model)} {space} toward {target}")

    @user_errors(6, message_at=4)
    def sample(self, model: Any, w: Any, n: Any, seed: Any, session: Session | None, *pickers: Any):
        session = fresh(session)
        model = self.model(model)
        components: dict[str, int | None] = {}
        for space, pick in zip(self.ex_of(model).space_names(model), pickers):
            n_comps = len(self.ex_of(model).entry(model).components(space).labels)
            if pick in (None, "", ANY):
                components[space] = None
            elif n_comps == 0:
                raise v.UserError(f"{space} has no mixture components: choose {ANY!r}")
            else:
                components[space] = v.integer(pick, f"component of {space}", v.Range(0, n_comps - 1))
        w = v.number(w, "spread w", v.SPREAD)
        n = v.integer(n, "samples", v.SAMPLES)
        seed = v.integer(seed, "seed", v.SEED)
        r = actions.sample(self.ex_of(model), model, components, w, n, seed)
        return self._strip_outputs(model, r, session, "sample", r.info.split(",")[0])

    @user_errors(6, message_at=4)
    def grid(self, model, space, dim_x, dim_y, lo, hi, steps, session):
        session = fresh(session)
        model = self.model(model)
        space = self.space(model, space)
        dims = (self.dim(model, space, dim_x, "dimension across"), self.dim(model, space, dim_y, "dimension down"))
        if dims[0] == dims[1]:
            raise ValueError("choose two different dimensions for the grid")
        r = actions.grid(self.ex_of(model), model, session, space, dims, v.number(lo, "from", v.SWEEP_VALUE),
                         v.number(hi, "to", v.SWEEP_VALUE), v.integer(steps, "cells per side", v.GRID_STEPS))
        return self._strip_outputs(model, r, session, "grid",
                                   f"grid {space}{dims[0]}x{dims[1]} of {self._name(session.a, session, model)}")

    def play_step(self, panel: str) -> Callable:
        """A picked step -> its audio (from the session, nothing recomputed)."""
        def handler(session, caption):
            clip = fresh(session).steps.get(panel, {}).get(caption)
            return gr.skip() if clip is None else audio_out(clip)
        return handler
