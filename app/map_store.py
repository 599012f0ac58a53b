"""GET /disentangle/map/<key>: a map's plotly JSON, fetched by the page, not carried by Gradio.

A map used to travel as its JSON in the hidden `#map_json` box. Gradio then
parsed the 2 MB answer (9,825 points with hover texts), set it into the box's
textarea, and cloned it again as the input of the listener that draws it: about
a third of a 1 s space switch, before Plotly had begun (Chromium profile, three
switches). Now the box carries only this route's path for the map: the page
fetches the JSON and draws it (bridge.js `__disentangleDraw`). The key is a hash
of the JSON, so a map already seen comes from the browser's cache.

The store keeps the newest maps up to a byte budget; a key that was dropped
answers 404 with one line (Update map asks for it again).
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response

PATH = "/disentangle/map/"
KEY = re.compile(r"[0-9a-f]{24}")
#: Bytes of map JSON kept (a 100,000-point map is ~1.5 MB, one with hover texts ~200 B a point).
MAX_BYTES = 256 * 2 ** 20


class MapStore:
    """Map JSON by content key, newest kept first, at most `max_bytes` in all (thread-safe)."""

    def __init__(self, max_bytes: int = MAX_BYTES):
        self.max_bytes = max_bytes
        self._maps: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def put(self, text: str) -> str:
        """Store one map's JSON; returns the path the page fetches it from (PATH + key)."""
        data = text.encode()
        key = hashlib.sha256(data).hexdigest()[:24]
        with self._lock:
            if key in self._maps:
                self._maps.move_to_end(key)
            else:
                self._maps[key] = data
                self._size += len(data)
                while self._size > self.max_bytes and len(self._maps) > 1:
                    _, old = self._maps.popitem(last=False)
                    self._size -= len(old)
        return PATH + key

    def put_figure(self, fig: Any) -> str:
        """Store a plotly map; its corpus trace's hover texts are stored apart and named in
        `layout.meta.texts` (bridge.js puts them back). They are the same for every space of a
        model (same points, same draw order), so the page fetches them once; sent with each map
        they were ~2.6 MB of a 20,000-point switch's answer."""
        corpus = fig.data[0] if fig.data and fig.data[0].name == "corpus" else None
        if corpus is not None and corpus.hovertext is not None and len(corpus.hovertext):
            texts = self.put(json.dumps([str(t) for t in corpus.hovertext]))
            corpus.hovertext = None
            fig.layout.meta = {**(fig.layout.meta or {}), "texts": texts}
        return self.put(fig.to_json())

    def get(self, path_or_key: str) -> bytes | None:
        """The JSON stored under a key (or the path `put` returned), None when unknown or dropped."""
        key = path_or_key.removeprefix(PATH)
        with self._lock:
            return self._maps.get(key)

    def __len__(self) -> int:
        return len(self._maps)


class MapMemo:
    """The map (its path in a store, and its caption) last made for the same inputs, per explorer.

    A space switch back to a map already seen rebuilt the figure on the server (90-140 ms
    of a 9,825-point map's ~0.7 s switch); the inputs that shape it (view, options, the
    session's marks) name it here instead. A path whose JSON the store dropped is a miss.
    """

    def __init__(self, store: MapStore, size: int = 32):
        self.store, self.size = store, size
        self._memo: weakref.WeakKeyDictionary[object, OrderedDict[Hashable, tuple[str, str]]] = \
            weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, owner: object, key: Hashable) -> tuple[str, str] | None:
        with self._lock:
            memo = self._memo.get(owner)
            found = memo.get(key) if memo is not None else None
            if found is not None:
                memo.move_to_end(key)  # type: ignore[union-attr]  # found implies memo
        return found if found is not None and self.store.get(found[0]) is not None else None

    def put(self, owner: object, key: Hashable, path: str, caption: str) -> None:
        with self._lock:
            memo = self._memo.setdefault(owner, OrderedDict())
            memo[key] = (path, caption)
            memo.move_to_end(key)
            while len(memo) > self.size:
                memo.popitem(last=False)


#: The process's maps: the handlers put, the route serves.
STORE = MapStore()
#: ... and which inputs made them.
MEMO = MapMemo(STORE)


def install(app: FastAPI, store: MapStore = STORE) -> None:
    """Serve PATH<key> on the running Gradio app (`demo.app` after launch)."""

    def get_map(key: str) -> Response:
        if not KEY.fullmatch(key):
            return PlainTextResponse("a map key is 24 hexadecimal characters", status_code=400)
        data = store.get(key)
        if data is None:
            return PlainTextResponse("no such map on the server (it was dropped): press Update map",
                                     status_code=404)
        # Content-addressed: the same key always names the same JSON.
        return Response(data, media_type="application/json",
                        headers={"Cache-Control": "private, max-age=86400, immutable"})

    app.add_api_route(PATH + "{key}", get_map, methods=["GET"], include_in_schema=False)
