"""GET /disentangle/neighbours: a corpus point's neighbours, for the page to list on a click.

Through Gradio a click's neighbours reached the table 460 / 560 ms (p50 / p95,
9,825 points) after the click: the answer came ~150 ms after the click, and
Gradio applied it to the page only with the click's other answers (issue 11
asks <= 300 ms). The click bridge (bridge.js) now asks this route while the
pointer rests on a point, as it does for the point's sound, and writes the
table and the map's marks itself when the point is clicked. Gradio's
`neighbours_of_click` still runs for the same click: it keeps the session's
list (keys n / p, row picks) and writes the same table.

Corpus points ("c:<row>") and mixture means ("k:<space>:<k>"): they need no
session (own sounds go the Gradio way).
"""
from __future__ import annotations

import logging
import threading

from browse_handlers import neighbour_choices, neighbour_table, neighbours_key
from clip_route import served_point
from errors import user_message
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from ui_handlers import Handlers

from disentangle.explore import validate as v
from disentangle.explore.session import Session

log = logging.getLogger("disentangle.app")

PATH = "/disentangle/neighbours"
#: Requests answered at once; more get 429 (hovering over a dense map asks often).
MAX_AT_ONCE = 2
#: How many neighbours a request may ask (the UI's slider goes to 30).
K = v.Range(1, 30)


def neighbours_answer(h: Handlers, model: str, space: str, which: str, k: str, ref: str) -> dict:
    """{"key", "html", "refs"} for corpus point or mixture mean `ref`: its `k` nearest in
    `which` ("map space" means `space`), the table as the page shows it. Raises UserError on
    bad arguments."""
    model = h.model(model)
    space = h.space(model, space)
    ex = h.ex_of(model)
    which = v.choice(which or "map space", "nearest to A in", neighbour_choices(ex.space_names(model)))
    count = v.integer(k, "how many", K)
    point = served_point(ref)
    target = space if which == "map space" else which
    found = ex.neighbours(model).nearest(point, target, count, Session())  # neither needs a session
    return {"key": neighbours_key(model, point, target, count), "html": neighbour_table(ex, found),
            "refs": [str(n.ref) for n in found]}


def install(app: FastAPI, h: Handlers) -> None:
    """Serve PATH on the running Gradio app (`demo.app` after launch)."""
    slots = threading.BoundedSemaphore(MAX_AT_ONCE)

    def neighbours(model: str = "", space: str = "", which: str = "", k: str = "8", ref: str = "") -> Response:
        if not slots.acquire(blocking=False):
            return PlainTextResponse("busy: try again", status_code=429)
        try:
            answer = neighbours_answer(h, model, space, which, k, ref)
        except Exception as exc:  # bad input: one line back; a bug: its traceback in the log
            message = user_message(exc)
            if message is None:
                log.exception("neighbours failed")
                return PlainTextResponse("the neighbours failed on the server (the error is logged there)", 500)
            return PlainTextResponse(message, status_code=400)
        finally:
            slots.release()
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    app.add_api_route(PATH, neighbours, methods=["GET"], include_in_schema=False)
