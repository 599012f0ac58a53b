"""Typed wiring of Gradio listeners (instead of `**dict` splats of listener arguments).

Two ways, one meaning: `listen(trigger, fn, ...)` wires one listener; the
`Listener` / `Queue` TypedDicts type the keyword sets the layout wires to many
events (`**project` redraws the map after a click, a switch, a load), and
`PRIVATE` hides one, as `listen(..., api_name=False)` does.

Gradio 6 types a listener's `api_name` as `str | None`, but still takes
`api_name=False` at run time: a private endpoint (not in the API docs, not
callable by clients) named "false" (then "false_1", ...). `listen` keeps
that spelling, typed, and declares exactly what `api_name=False` declared,
so endpoint names, and the suffixes Gradio gives names already taken, stay as
they were.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol, TypedDict

from gradio.blocks import Block
from gradio.components import Component
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


class Queue(TypedDict, total=False):
    """Which workers run a listener: `concurrency_id` names a group of listeners sharing a limit."""

    concurrency_id: str | None
    concurrency_limit: int | Literal["default"] | None


class Listener(Queue, total=False):
    """What `event(**listener)` passes: a handler with its inputs, outputs and queue.

    No API name: each wiring of a listener names its endpoint, or hides it (`PRIVATE`).
    """

    fn: Callable[..., Any] | None
    inputs: Blocks
    outputs: Blocks
    show_progress: Literal["full", "minimal", "hidden"]
    show_progress_on: Component | Sequence[Component] | None


class Hidden(TypedDict):
    """A listener kept out of the API (`PRIVATE`)."""

    api_name: str
    api_visibility: Literal["public", "private", "undocumented"]


#: No endpoint for this listener: what Gradio makes of `api_name=False` (which
#: Gradio 6 still accepts but types `str | None`): a name no public endpoint
#: has (Gradio numbers repeats: "false", "false_1", ...) and private
#: visibility, neither listed nor callable by clients. An unnamed private
#: listener would instead take its function's name, and a public endpoint
#: wired after it ("project") would then be renamed ("project_1").
PRIVATE: Hidden = {"api_name": PRIVATE_NAME, "api_visibility": "private"}
