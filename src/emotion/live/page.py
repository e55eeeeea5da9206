"""The live page on localhost: Starlette routes (served by `emotion.live.server`), pushing the live state
to the browser by server-sent events; the page itself (HTML, script, style) ships inside the package.

GET / the page, /events the updates (every `page.update_s`; the timeline only when it changed), /state one
update as JSON, /frame/<n>.jpg camera n's latest sample with its faces drawn; POST /mark marks the episode's
start, POST /stop ends the screening as Ctrl-C does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from emotion.live.state import LiveState

STATIC = Path(str(files("emotion.live").joinpath("static")))
NO_STORE = {"Cache-Control": "no-store"}


def page_app(state: LiveState, update_s: float, frame_px: int, mark: Callable[[], float],
             stop: Callable[[], None]) -> Starlette:
    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "screen.html", headers=NO_STORE)

    async def events(request: Request) -> Response:
        async def updates():
            seen = -1
            while not state.closed:
                shown, seen = state.snapshot(seen)
                yield f"data: {json.dumps(shown, allow_nan=False)}\n\n"
                await asyncio.sleep(update_s)

        return StreamingResponse(updates(), media_type="text/event-stream", headers=NO_STORE)

    async def current(request: Request) -> Response:
        return JSONResponse(state.snapshot(-1)[0], headers=NO_STORE)

    def frame(request: Request) -> Response:  # a plain function: Starlette runs it on a worker thread
        number = request.path_params["camera"]
        data = state.cameras[number].jpeg(state.classes, frame_px) if number < len(state.cameras) else None
        return Response(data, media_type="image/jpeg", headers=NO_STORE) if data else Response(status_code=404)

    async def on_mark(request: Request) -> Response:
        return JSONResponse({"mark_wall": mark()})

    async def on_stop(request: Request) -> Response:
        stop()
        return JSONResponse({"stopping": True})

    return Starlette(routes=[
        Route("/", index), Route("/events", events), Route("/state", current),
        Route("/frame/{camera:int}.jpg", frame), Route("/mark", on_mark, methods=["POST"]),
        Route("/stop", on_stop, methods=["POST"]), Mount("/static", StaticFiles(directory=STATIC)),
    ])
