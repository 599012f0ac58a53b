"""GET /disentangle/clip: the sound of a corpus point, straight to the browser on a click.

A click's sound came through Gradio's queue and its player: ~150 ms to the
answer, ~80 ms for the page to take it, ~230 ms for the player to load and
start (Chromium here, 3,600 points; p50 click -> sound 530 ms). The click
bridge (bridge.js) now asks this route on the click itself and plays the WAV
with Web Audio; Gradio's `render_point` still fills the players, spectrograms
and the A/B selection, and the bridge skips its player's start for that click.

Corpus points ("c:<row>") and mixture means ("k:<space>:<k>"): they need no
session (own sounds go the Gradio way). Mixture means were added when a click
on one proved to be the slow click of the browser benchmark: 580-700 ms
through Gradio, against ~70 ms for a corpus point (session 10). Renders are
memoised by the model entry, so the Gradio call that follows reuses this
one's decode and Griffin-Lim.
"""
from __future__ import annotations

import io
import logging
import threading

import soundfile as sf
from errors import user_message
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response
from ui_handlers import AUTOPLAY, Handlers, played

from disentangle.explore import validate as v
from disentangle.explore.refs import Ref, parse_click
from disentangle.explore.session import Clip, Session
from disentangle.interface import to_int16

log = logging.getLogger("disentangle.app")

PATH = "/disentangle/clip"
#: Renders at once; more get 429 (a flood of GETs must not take every core from the queue).
MAX_AT_ONCE = 2


def served_point(ref: str) -> Ref:
    """The reference a click route serves (a corpus point or a mixture mean: neither needs a
    session); UserError for anything else, a user's own sound included."""
    point = parse_click(v.text(ref, "point reference"))
    if point is None or point.kind == "user":
        raise v.UserError("only corpus points (c:<row>) and mixture means (k:<space>:<k>) are served here")
    return point


def clip_wav(h: Handlers, model: str, ref: str, play: str) -> bytes:
    """The WAV (16-bit) a click on corpus point or mixture mean `ref` of `model` plays with `play`
    (AUTOPLAY; a mixture mean has no original, so it always plays its decoded sound)."""
    model = h.model(model)
    play = v.choice(play, "on click, play", AUTOPLAY)
    point = served_point(ref)
    entry = h.ex_of(model).entry(model)
    session = Session()  # corpus points and mixture means read nothing from a session
    render = entry.render(point, session)
    rate = entry.interface.sample_rate
    original = entry.original(point, session)
    clip = played(play, None if original is None else Clip(rate, original), Clip(rate, render.audio))
    out = io.BytesIO()
    sf.write(out, to_int16(clip.audio), rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def install(app: FastAPI, h: Handlers) -> None:
    """Serve PATH on the running Gradio app (its FastAPI app: `demo.app` after launch)."""
    slots = threading.BoundedSemaphore(MAX_AT_ONCE)

    def clip(model: str = "", ref: str = "", play: str = AUTOPLAY[0]) -> Response:
        if not slots.acquire(blocking=False):
            return PlainTextResponse("busy: try again", status_code=429)
        try:
            data = clip_wav(h, model, ref, play)
        except Exception as exc:  # bad input: one line back and in the log; a bug: its traceback in the log
            message = user_message(exc)
            if message is None:
                log.exception("clip failed")
                return PlainTextResponse("the clip failed on the server (the error is logged there)", 500)
            log.info("clip refused: %s", message)
            return PlainTextResponse(message, status_code=400)
        finally:
            slots.release()
        return Response(data, media_type="audio/wav", headers={"Cache-Control": "no-store"})

    app.add_api_route(PATH, clip, methods=["GET"], include_in_schema=False)
