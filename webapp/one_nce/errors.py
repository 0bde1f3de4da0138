"""Typed errors of the 1NCE client; each names the endpoint (templated path) and HTTP status."""


class OneNceError(Exception):
    """A 1NCE call failed; `endpoint` is the templated path, `status` the HTTP status or None.

    `error_token` is v2's error kind (NotFound, BadRequest, Conflict, InternalServerError) when
    the error body names one; v2's `error_code` is 1000 in every example, so it is not kept.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        status: int | None = None,
        error_token: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.status = status
        self.message = message
        self.error_token = error_token
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.endpoint or "1NCE"
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{where}{status}: {self.message}"


class OneNceNotConfigured(OneNceError):
    """The app has no 1NCE credentials configured."""


class OneNceAuthError(OneNceError):
    """The credentials were refused, or a fresh token was still rejected."""


class OneNceNotFound(OneNceError):
    """The SIM (or other resource) does not exist: a 404, or v1's 200 with an empty body."""


class OneNceUnsupported(OneNceError):
    """The selected API version has no such call (v2 has no limits); nothing was sent."""


class OneNceRejected(OneNceError):
    """1NCE refused the request as invalid (400, 403, 409, 422, ...); retrying will not help."""


class OneNceRateLimited(OneNceError):
    """1NCE kept answering 429 after every retry; `retry_after` is its hint in seconds, if any."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, endpoint=endpoint, status=status)


class OneNceUnavailable(OneNceError):
    """1NCE could not be reached or kept failing (5xx, HTML outage pages) after every retry."""


class OneNceTimeout(OneNceUnavailable):
    """1NCE did not answer within the connect or read timeout, after every retry."""


class OneNceMalformedResponse(OneNceError):
    """The response body is not what the endpoint returns; nothing of it is used."""


class OneNceUnexpectedShape(OneNceMalformedResponse):
    """The body's top level is not the shape the endpoint is known or assumed to send.

    `keys` are the body's top-level keys (empty when it is not an object), so the log line
    shows what 1NCE sent instead.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        status: int | None = None,
        keys: tuple[str, ...] = (),
    ) -> None:
        self.keys = keys
        super().__init__(message, endpoint=endpoint, status=status)
