"""The OAuth token endpoint both API versions share (client credentials, HTTP Basic)."""

from flask import Blueprint, Response, request

from simulator.common import API_PREFIX, gateway, settings
from simulator.responses import json_response

oauth = Blueprint("simulator_oauth", __name__, url_prefix=API_PREFIX)


def token_error(code: str, message: str) -> Response:
    """A token endpoint error: HTTP 400 with camelCase keys."""
    return json_response({"statusCode": 400, "errorCode": code, "message": message}, 400)


@oauth.post("/oauth/token")
def oauth_token() -> Response:
    """Client-credentials grant with HTTP Basic; JSON or form body."""
    content_type = request.mimetype
    if content_type == "application/json":
        body = request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}
    elif content_type == "application/x-www-form-urlencoded":
        body = request.form.to_dict()
    else:
        return token_error("UnsupportedContentTypeError", "Content-Type not supported")
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        return token_error(
            "AuthValidationError", "Auth header validation error: Missing attributes 'username'"
        )
    if not auth.password:
        return token_error(
            "AuthValidationError", "Auth header validation error: Missing attributes 'password'"
        )
    if body.get("grant_type") != "client_credentials":
        return token_error(
            "BodyValidationError", "Request body validation error: Missing attributes 'grant_type'"
        )
    config = settings()
    if auth.username != config.client_id:
        return token_error("BadCredentials", "User does not exist.")
    if auth.password != config.client_secret:
        return token_error("BadCredentials", "Incorrect username or password.")
    tokens = gateway().tokens
    return json_response(
        {
            "status_code": 200,
            "access_token": tokens.issue(auth.username),
            "token_type": "bearer",
            "expires_in": tokens.ttl,
            "userId": auth.username,
            "scope": "all",
        }
    )
