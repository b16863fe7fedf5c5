"""A browser debugger for a simulation: ``serve(sim)`` and open the printed URL.

    from happysimulator.observability import serve
    server = serve(sim, port=8765)        # prints http://127.0.0.1:8765/?token=...
    server.stop()

or, from a shell, ``happysim-rx serve examples/metastable_failure.py:build``. Needs the
``web`` extra (``pip install 'happysim-rx[web]'``: Starlette, uvicorn, websockets).
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

__all__ = ["DebugServer", "serve"]


class DebugServer:
    """A running debugger: `url` to open, `stop()` to end it, `wait()` to block on it."""

    def __init__(self, model: Any, *, port: int = 8765, params: dict[str, Any] | None = None,
                 max_points: int = 1000) -> None:
        try:
            import uvicorn

            from happysimulator.observability.web.app import create_app
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise ImportError("the browser debugger needs the 'web' extra: "
                              "pip install 'happysim-rx[web]'") from exc
        from happysimulator.observability.web.driver import Debugger
        from happysimulator.observability.web.session import open_session

        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an integer in [0, 65535] (0: any free port), "
                             f"got {port!r}")
        session = open_session(model, params)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind(("127.0.0.1", port))  # local only: the page can run models
        except OSError as exc:
            self._sock.close()
            raise OSError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); "
                          "choose another port, or port=0 for any free one") from exc
        self.port: int = self._sock.getsockname()[1]
        self.app, self.hub, self.token = create_app(
            lambda push: Debugger(session, push, max_points=max_points), port=self.port)
        self.debugger: Any = self.app.state.debugger
        self.url = f"http://127.0.0.1:{self.port}/?token={self.token}"
        config = uvicorn.Config(self.app, log_level="warning", ws="websockets-sansio",
                                lifespan="on", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._sock]},
                                        name="happysim-debugger-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the debugger's web server did not start")
            time.sleep(0.01)

    @property
    def session(self) -> Any:
        """The session protocol object the page drives."""
        return self.debugger.session

    def stop(self) -> None:
        """Stop the web server and the worker (the simulation stays as it is)."""
        self._server.should_exit = True
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self.debugger.close()
        self._sock.close()

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C stops it)."""
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> DebugServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<DebugServer {self.url}>"


def serve(model: Any, *, port: int = 8765, params: dict[str, Any] | None = None,
          quiet: bool = False) -> DebugServer:
    """Start the browser debugger on 127.0.0.1:`port` and print its URL.

    `model` is a `Simulation` (with observability), a model factory (called with
    `params`; it returns a `Simulation`) or a ``"path/file.py:factory"`` spec; with a
    factory the page can also reset the model with a new seed. Returns at once (the server
    runs on background threads, so a notebook stays usable); `.wait()` blocks.
    """
    server = DebugServer(model, port=port, params=params)
    if not quiet:
        print(f"happysim-rx debugger: {server.url}", flush=True)
    return server
