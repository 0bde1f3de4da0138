"""Job functions. Thin: primitives in, a service does the work, one commit."""

from webapp.ops.services import record_heartbeat


def heartbeat() -> str:
    """Record that a worker is alive; /health/ready and the dashboard show the beat."""
    return record_heartbeat().isoformat()
