"""1NCE Management API client (v2, or v1): auth, paging, pacing, retries, the real wire format.

Depends only on requests, redis and prometheus_client: build an `OnceClient` explicitly in
scripts and tests; inside the app use `get_client()` from webapp/extensions.py.
See docs/onece-client.md.
"""

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
]
