"""Error pages for people, JSON problems for machines, and the error of a bad parameter."""

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


class QueryError(ValueError):
    """A filter, cursor or range is invalid; `field` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def wants_json() -> bool:
    """True for API and health paths, or when the client prefers JSON over HTML."""
    if request.path.startswith(("/api/", "/health")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def register_error_handlers(app: Flask) -> None:
    """Answer HTTP errors with a page or an application/problem+json body."""

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response:
        code = error.code or 500  # Flask hands over only the exceptions that have a code
        if request.path.startswith("/api/"):
            # Routing errors (no such URL or method) never reach the API blueprint's handlers:
            # answer them in its vocabulary too.
            from webapp.api.problems import from_http_exception

            return from_http_exception(error)
        if wants_json():
            body = {
                "type": "about:blank",
                "title": error.name,
                "status": code,
                "detail": error.description,
            }
            response = jsonify(body)
            response.status_code = code
            response.content_type = "application/problem+json"
        else:
            response = app.make_response((render_template("errors/error.html", error=error), code))
        return response
