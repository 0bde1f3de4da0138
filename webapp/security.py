"""Security headers on every response, the request edge's checks, and trust in proxies."""

from flask import Flask, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.inputs import refuse_unstorable_text

# No inline scripts or styles anywhere: every script and stylesheet is a file under /static.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def register_security(app: Flask) -> None:
    """Security headers (HSTS in production, no-store for signed-in pages), the request
    edge's text check, and ProxyFix for PROXY_HOPS proxies."""
    hops = app.config["PROXY_HOPS"]
    if hops:
        # Flask's documented way to add WSGI middleware; its stubs declare wsgi_app a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    production = app.config["APP_ENV"] == "production"
    app.before_request(refuse_unstorable_text)

    @app.after_request
    def add_security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if production:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if _is_private_page():
            # What a signed-in user saw must not outlive the session in any cache.
            response.headers["Cache-Control"] = "no-store"
        return response


def _is_private_page() -> bool:
    """A response for a signed-in user: not a static file, not the API (keys, not sessions)."""
    if request.endpoint == "static" or request.path.startswith("/api/"):
        return False
    return current_user.is_authenticated
