"""The map's own plotting library, served to the page and started from the page's head.

The map is drawn by plotly.js's gl2d bundle (scatter, scattergl; vendor/README.md), not by
Gradio's gr.Plot, whose bundle is the full plotly.js. Measured in headless Chromium on
the 2-core machine, a training on one core (a page holding only a <script> of the bundle,
time from before it to after it, 3 runs each): the full plotly.js 4.1.1 took 3.1-3.4 s,
the gl2d bundle 1.1-1.3 s. And gr.Plot starts loading its bundle only once Gradio has
mounted the page (~1.2 s after the request): a Gradio page with a 10-point gr.Plot drew
it 3.4-4.3 s after the request, so a 100k-point map could not be drawn within 3 s. The head
script (`HEAD`, early.js) loads the gl2d bundle and asks for the default view's map while
Gradio loads and mounts the page; bridge.js draws it, and every later map, into
#latent_map. `EarlyHead` writes the script into the page's HTML, so both start with the
page's first bytes: Gradio's own `head=` runs only once its JavaScript has read the config
(~1.1 s after the request here), and there it is the fallback.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

VERSION = "3.7.0"
#: The vendored bundle (MIT; vendor/README.md says where it comes from and how to refresh it).
BUNDLE = Path(__file__).resolve().parent / "vendor" / f"plotly-gl2d-{VERSION}.min.js"
#: Where the page loads it: versioned, so it may be cached for good.
PATH = f"/disentangle/plotly-gl2d-{VERSION}.min.js"

#: The page's first script (early.js), with the bundle's path relative (the page may sit under a prefix).
HEAD = "<script>" + (Path(__file__).resolve().parent / "early.js").read_text().replace("__BUNDLE_URL__", PATH[1:]) \
    + "</script>"


def install(app: FastAPI) -> None:
    """Serve PATH on the running Gradio app (`demo.app` after launch)."""
    if not BUNDLE.is_file():
        raise FileNotFoundError(f"{BUNDLE} is missing: the map cannot be drawn (see app/vendor/README.md)")

    def get_bundle() -> FileResponse:
        return FileResponse(BUNDLE, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=31536000, immutable"})

    app.add_api_route(PATH, get_bundle, methods=["GET"], include_in_schema=False)


class EarlyHead:
    """ASGI middleware: `HEAD` goes before the `</head>` of the page (GET /, HTML).

    Inside Gradio's compression (its middleware is added later, so it wraps this one); every
    other request passes untouched.
    """

    def __init__(self, app: ASGIApp, snippet: str = HEAD):
        self.app = app
        self.snippet = snippet.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != "/":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kind = dict(message.get("headers", [])).get(b"content-type", b"")
                if kind.startswith(b"text/html"):
                    start = message  # held until the whole page is here
                    return
            elif message["type"] == "http.response.body" and start is not None:
                body.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                page = b"".join(body).replace(b"</head>", self.snippet + b"</head>", 1)
                headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
                await send({**start, "headers": [*headers, (b"content-length", str(len(page)).encode())]})
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, rewrite)


def app_kwargs() -> dict[str, Any]:
    """`demo.launch(app_kwargs=...)`: the Gradio app built with `EarlyHead`."""
    return {"middleware": [Middleware(EarlyHead)]}
