"""Keyword arguments of Gradio listeners, typed, so the page's wiring is type-checked.

The layout wires one listener to many events (`**project` redraws the map after
a click, a switch, a load); as plain dicts their values were `object` to mypy.
These `TypedDict`s give each keyword the type Gradio's listeners declare.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, TypedDict

from gradio.blocks import BlockContext
from gradio.components import Component

Blocks = Component | BlockContext | Sequence[Component | BlockContext] | None


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
PRIVATE: Hidden = {"api_name": "false", "api_visibility": "private"}


__all__ = ["PRIVATE", "Hidden", "Listener", "Queue"]
