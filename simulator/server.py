"""Serve a simulator app with werkzeug's threaded server."""

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietRequestHandler(WSGIRequestHandler):
    """Skips the per-request access log line (hours of benchmark traffic would flood it)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing."""


def make_simulator_server(
    app: Flask, host: str = "127.0.0.1", port: int = 0, *, access_log: bool = False
) -> BaseWSGIServer:
    """A threaded werkzeug server for `app`; port 0 picks a free port."""
    handler = WSGIRequestHandler if access_log else QuietRequestHandler
    return make_server(host, port, app, threaded=True, request_handler=handler)
