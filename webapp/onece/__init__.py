"""1NCE Management API client (v2, or v1): auth, paging, pacing, retries, the real wire format.

Build an `OnceClient` explicitly in scripts and tests; inside the app use `get_client()`.
See docs/onece-client.md.
"""

from collections.abc import Mapping
from typing import Any

from flask import current_app

from webapp.extensions import get_redis
from webapp.onece.client import OnceClient
from webapp.onece.errors import (
    OnceAuthError,
    OnceError,
    OnceMalformedResponse,
    OnceNotConfigured,
    OnceNotFound,
    OnceRateLimited,
    OnceRejected,
    OnceTimeout,
    OnceUnavailable,
    OnceUnexpectedShape,
    OnceUnsupported,
)
from webapp.onece.records import (
    Charge,
    Connectivity,
    ConnectivityInfo,
    Event,
    Limit,
    Limits,
    Order,
    OrderedProduct,
    Page,
    PdpSession,
    Product,
    Quota,
    QuotaStatus,
    Reject,
    Sim,
    SimUpdate,
    Sms,
    UsageDay,
)
from webapp.onece.transport import RetryPolicy

__all__ = [
    "Charge",
    "Connectivity",
    "ConnectivityInfo",
    "Event",
    "Limit",
    "Limits",
    "OnceAuthError",
    "OnceClient",
    "OnceError",
    "OnceMalformedResponse",
    "OnceNotConfigured",
    "OnceNotFound",
    "OnceRateLimited",
    "OnceRejected",
    "OnceTimeout",
    "OnceUnavailable",
    "OnceUnexpectedShape",
    "OnceUnsupported",
    "Order",
    "OrderedProduct",
    "Page",
    "PdpSession",
    "Product",
    "Quota",
    "QuotaStatus",
    "Reject",
    "RetryPolicy",
    "Sim",
    "SimUpdate",
    "Sms",
    "UsageDay",
    "client_from_config",
    "get_client",
]


def get_client() -> OnceClient:
    """The current app's 1NCE client, built from its config on first use in this process."""
    extensions = current_app.extensions
    client = extensions.get("onece")
    if client is None:
        # A race here builds two clients and keeps one; both share the same Redis state.
        client = extensions.setdefault("onece", client_from_config(current_app.config))
    return client


def client_from_config(config: Mapping[str, Any]) -> OnceClient:
    """A new client from app settings (ONCE_*), e.g. one per API version to compare them."""
    if not config.get("ONCE_CLIENT_ID") or not config.get("ONCE_CLIENT_SECRET"):
        raise OnceNotConfigured("ONCE_CLIENT_ID and ONCE_CLIENT_SECRET are not set")
    return OnceClient(
        base_url=config["ONCE_API_URL"],
        client_id=config["ONCE_CLIENT_ID"],
        client_secret=config["ONCE_CLIENT_SECRET"],
        api_version=config["ONCE_API_VERSION"],
        redis=get_redis(),
        max_rps=config["ONCE_MAX_RPS"],
        connect_timeout=config["ONCE_CONNECT_TIMEOUT"],
        read_timeout=config["ONCE_READ_TIMEOUT"],
    )
