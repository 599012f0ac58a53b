"""Typed wiring of Gradio listeners (instead of `**dict` splats of listener arguments).

Gradio 6 types a listener's `api_name` as `str | None`, but still takes
`api_name=False` at run time: a private endpoint (not in the API docs, not
callable by clients) named "false" (then "false_1", ...). `listen` keeps
that spelling, typed, and declares exactly what `api_name=False` declared,
so endpoint names, and the suffixes Gradio gives names already taken, stay as
they were.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

from gradio.blocks import Block
from gradio.events import Dependency

Blocks = Block | Sequence[Block] | None
ShowProgress = Literal["full", "minimal", "hidden"]
TriggerMode = Literal["once", "multiple", "always_last"]
ApiVisibility = Literal["public", "private", "undocumented"]
#: The endpoint name Gradio gives `api_name=False` (made unique with a suffix, as any name).
PRIVATE_NAME = "false"


class Trigger(Protocol):
    """An event listener method (`.click`, `.change`, `.input`, `.select`, `.submit`, `Dependency.then`),
    with the arguments `listen` passes."""

    def __call__(self, fn: Callable[..., Any] | None = ..., inputs: Blocks = ..., outputs: Blocks = ..., *,
                 api_name: str | None = ..., api_visibility: ApiVisibility = ...,
                 show_progress: ShowProgress = ..., trigger_mode: TriggerMode | None = ...,
                 js: str | None = ...) -> Dependency: ...


def listen(trigger: Trigger, fn: Callable[..., Any] | None, inputs: Blocks, outputs: Blocks, *,
           api_name: str | Literal[False], show_progress: ShowProgress = "full",
           trigger_mode: TriggerMode | None = None, js: str | None = None) -> Dependency:
    """`trigger(fn, inputs, outputs, ...)`: a public endpoint `api_name`, or, for False, a private one.

    The defaults are Gradio's own for the events wired here (all but `stream` and `tick`).
    """
    if api_name is False:
        return trigger(fn, inputs, outputs, api_name=PRIVATE_NAME, api_visibility="private",
                       show_progress=show_progress, trigger_mode=trigger_mode, js=js)
    return trigger(fn, inputs, outputs, api_name=api_name, show_progress=show_progress,
                   trigger_mode=trigger_mode, js=js)
