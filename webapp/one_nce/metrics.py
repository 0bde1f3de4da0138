"""Prometheus metrics of the 1NCE client (Counters and Histograms only: multiprocess-safe)."""

from prometheus_client import Counter, Histogram

CALLS = Counter(
    "simfleet_once_calls",
    "HTTP calls to the 1NCE API, by templated endpoint and status (or error kind).",
    ["endpoint", "status"],
)
LATENCY = Histogram(
    "simfleet_once_call_duration_seconds",
    "Duration of one HTTP call to the 1NCE API, pacing excluded.",
    ["endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RETRIES = Counter(
    "simfleet_once_retries",
    "Calls repeated after a retryable failure, by endpoint and reason.",
    ["endpoint", "reason"],
)
RATE_LIMITED = Counter(
    "simfleet_once_rate_limited",
    "429 answers from 1NCE, by endpoint.",
    ["endpoint"],
)
TOKEN_REFRESHES = Counter(
    "simfleet_once_token_refreshes",
    "OAuth tokens fetched from 1NCE, by reason (missing, expiring, rejected) and outcome.",
    ["reason", "outcome"],
)
PACING_WAIT = Histogram(
    "simfleet_once_pacing_wait_seconds",
    "Time a call waited for its slot in the shared rate limiter, by limiter group.",
    ["group"],
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
REJECTED_RECORDS = Counter(
    "simfleet_once_rejected_records",
    "List items skipped because they could not be parsed, by endpoint.",
    ["endpoint"],
)
UNEXPECTED_SHAPES = Counter(
    "simfleet_once_unexpected_shapes",
    "Bodies whose top level is not the shape the endpoint is known or assumed to send.",
    ["endpoint"],
)
