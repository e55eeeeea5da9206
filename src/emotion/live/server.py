"""The live page's server: its socket bound at once, so that a port in use is one line before anything is
recorded (and before the model runtime loads), then uvicorn serving the page's app on a thread of its own."""

from __future__ import annotations

import socket
import threading

import uvicorn
from starlette.applications import Starlette

from emotion.core.errors import EmotionError


class PageServer:
    """The page's socket is bound at once (a port in use is an `EmotionError` before anything is recorded); the
    server starts with `start` and stops with `stop`."""

    def __init__(self, host: str, port: int):
        self.socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        try:
            self.socket.bind((host, port))
            self.socket.listen(64)
        except OSError as e:
            self.socket.close()
            raise EmotionError(f"page: cannot listen on {host}:{port} ({e.strerror}): choose another port with "
                               "page.port=<port> (0: any free one)") from None
        self.url = f"http://{host}:{self.socket.getsockname()[1]}/"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self, app: Starlette) -> None:
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, name="page",
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(10)
        self.socket.close()
