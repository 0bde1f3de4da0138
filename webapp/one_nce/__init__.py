"""1NCE Management API client (v2, or v1): auth, paging, pacing, retries, the real wire format.

`one_nce` spells "1NCE" (a Python name cannot start with a digit). Its records end in
`Record` or name the wire's own thing, never an ORM model's name (`SimRecord`, not `Sim`).
Depends only on requests, redis and prometheus_client: build a `OneNceClient` explicitly in
scripts and tests; inside the app use `get_client()` from webapp/extensions.py.
See docs/one-nce-client.md.
"""

from webapp.one_nce.client import OneNceClient
from webapp.one_nce.errors import (
    OneNceAuthError,
    OneNceError,
    OneNceMalformedResponse,
    OneNceNotConfigured,
    OneNceNotFound,
    OneNceRateLimited,
    OneNceRejected,
    OneNceTimeout,
    OneNceUnavailable,
    OneNceUnexpectedShape,
    OneNceUnsupported,
)
from webapp.one_nce.records import (
    Charge,
    Connectivity,
    ConnectivityInfo,
    Event,
    Limit,
    Limits,
    ListPage,
    Order,
    OrderedProduct,
    PdpSession,
    Product,
    Quota,
    QuotaStatus,
    Reject,
    SimRecord,
    SimUpdate,
    Sms,
    UsageRecord,
)
from webapp.one_nce.transport import RetryPolicy

__all__ = [
    "Charge",
    "Connectivity",
    "ConnectivityInfo",
    "Event",
    "Limit",
    "Limits",
    "ListPage",
    "OneNceAuthError",
    "OneNceClient",
    "OneNceError",
    "OneNceMalformedResponse",
    "OneNceNotConfigured",
    "OneNceNotFound",
    "OneNceRateLimited",
    "OneNceRejected",
    "OneNceTimeout",
    "OneNceUnavailable",
    "OneNceUnexpectedShape",
    "OneNceUnsupported",
    "Order",
    "OrderedProduct",
    "PdpSession",
    "Product",
    "Quota",
    "QuotaStatus",
    "Reject",
    "RetryPolicy",
    "SimRecord",
    "SimUpdate",
    "Sms",
    "UsageRecord",
]
