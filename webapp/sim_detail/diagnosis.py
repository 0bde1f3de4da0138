"""The "why offline?" panel: status, quota, connectivity and events in a plain diagnosis.

The rules run in order of how surely they explain a SIM without data: an administrative
block (disabled, no quota) beats what the network reports, which beats guesses from silence.
Every finding keeps the facts it rests on, so the page can show the evidence beside it.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from webapp.models import Sim, SimEvent
from webapp.models.sim import QUOTA_STATES

# 1NCE's simulator and real network mark a device as detached after about a day of silence.
SILENT_AFTER = timedelta(hours=26)
RELEVANT_EVENTS = 6
# Event types that say something about attachment, sessions, status or quota (lower case).
RELEVANT_WORDS = ("location", "pdp", "status", "quota", "fail", "reject", "purge", "reset")
FAILURE_WORDS = ("fail", "reject", "denied")
SEVERITY_ORDER = ("bad", "warn", "unknown", "ok")
# Why 1NCE refused data, as its API v2 events say (`data_service_failure_cause`, or a
# location update's `update_location_failure_reason`): a title and what to do.
FAILURE_CAUSES = {
    "QUOTA_EXHAUSTED": ("1NCE refused data: the quota is used up", "Order a top-up."),
    "QUOTA_EXPIRED": ("1NCE refused data: the quota has expired", "A top-up renews it."),
    "NO_QUOTA_FOUND": (
        "1NCE refused data: the SIM has no quota",
        "Order a top-up, or ask 1NCE support why no quota is assigned.",
    ),
    "IMEI_LOCK_BREACHED": (
        "1NCE refused data: the IMEI lock was breached",
        "The SIM is in another device than the one it is locked to. Put it back, or unlock "
        "the IMEI if the device was replaced on purpose.",
    ),
    "IMEI_LOCK_ENFORCED": (
        "1NCE refused data: the IMEI lock is enforced",
        "The device's IMEI is not the locked one. Unlock the IMEI if the device was replaced.",
    ),
    "MONTHLY_USAGE_LIMIT_EXCEEDED": (
        "1NCE refused data: the monthly traffic limit is reached",
        "Data resumes next month, or once the limit is raised in the 1NCE portal.",
    ),
    "APN_NOT_AUTHORIZED": (
        "1NCE refused data: the APN is not allowed",
        "Set the device's APN to iot.1nce.net.",
    ),
    "PDN_NOT_SUPPORTED": (
        "1NCE refused data: the PDN type is not supported",
        "Set the device's PDP type to IPv4.",
    ),
    "DATA_SERVICE_BARRED": (
        "1NCE refused data: data is barred for this SIM",
        "Ask 1NCE support why data is barred.",
    ),
    "IMSI_NOT_FOUND": (
        "1NCE refused data: the network does not know the IMSI",
        "Reset the connectivity; if it persists, ask 1NCE support.",
    ),
    "RAT_NOT_ALLOWED": (
        "The network refused the radio technology",
        "The device uses a radio access type (e.g. 2G) this network or tariff does not allow. "
        "Change the device's RAT setting.",
    ),
}


@dataclass(frozen=True)
class Finding:
    """One conclusion, how bad it is (bad, warn, ok, unknown) and the facts behind it."""

    severity: str
    title: str
    advice: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diagnosis:
    """The verdict (the first, most telling finding), every finding, and the events used."""

    findings: tuple[Finding, ...]
    events: tuple[SimEvent, ...] = field(default=())

    @property
    def verdict(self) -> Finding:
        """The finding that explains the SIM's state best."""
        return self.findings[0]


def diagnose(*, sim: Sim, events: Sequence[SimEvent], now: datetime) -> Diagnosis:
    """Explain in plain language whether and why the SIM cannot use data; events newest first."""
    relevant = tuple(e for e in events if _relevant(e))[:RELEVANT_EVENTS]
    findings = [finding for rule in RULES if (finding := rule(sim, relevant, now))]
    # Silence explains a SIM only when nothing blocks it (and nothing shows it online).
    if not any(f.severity in ("ok", "bad") for f in findings):
        findings.append(_attachment(sim, relevant, now))
    findings.sort(key=lambda f: SEVERITY_ORDER.index(f.severity))
    return Diagnosis(findings=tuple(findings), events=relevant)


def _relevant(event: SimEvent) -> bool:
    lowered = event.event_type.lower()
    return _cause(event) is not None or any(word in lowered for word in RELEVANT_WORDS)


def _cause(event: SimEvent) -> str | None:
    """The refusal cause a v2 event names, if it is one Simfleet can explain."""
    cause = (event.details or {}).get("failure_cause")
    return cause if cause in FAILURE_CAUSES else None


def _failed(event: SimEvent) -> bool:
    lowered = event.event_type.lower()
    return _cause(event) is not None or any(word in lowered for word in FAILURE_WORDS)


def _latest(events: Sequence[SimEvent], *words: str) -> SimEvent | None:
    return next((e for e in events if any(w in e.event_type.lower() for w in words)), None)


def _event_fact(event: SimEvent) -> str:
    return f"{event.occurred_at:%Y-%m-%d %H:%M} UTC: {event.event_type}"


def _disabled(sim: Sim, events: Sequence[SimEvent], now: datetime) -> Finding | None:
    if sim.status != "Disabled":
        return None
    evidence = ["1NCE reports the SIM status as Disabled."]
    change = _latest(events, "status of sim changed")
    if change:
        evidence.append(_event_fact(change))
    return Finding(
        "bad",
        "The SIM is disabled",
        "A disabled SIM cannot attach or use data. Enable it if it should be in service.",
        tuple(evidence),
    )


def _blocked(sim: Sim, events: Sequence[SimEvent], now: datetime) -> Finding | None:
    if sim.connectivity_status != "BLOCKED":
        return None
    return Finding(
        "bad",
        "1NCE blocks the SIM on the network",
        "1NCE reports the endpoint as BLOCKED: it cannot attach whatever the device does. "
        "Check the SIM in the 1NCE portal or ask 1NCE support why it is blocked.",
        ("1NCE's /status reports BLOCKED.",),
    )


def _traffic_limit(sim: Sim, events: Sequence[SimEvent], now: datetime) -> Finding | None:
    if not sim.data_limit_reached:
        return None
    return Finding(
        "bad",
        "The monthly traffic limit is reached",
        "The account's monthly data limit stops data for this SIM until next month. Raise the "
        "limit in the 1NCE portal (1NCE's API v2 has no call for it) to resume sooner.",
        ("1NCE's /status reports the data traffic limit as REACHED.",),
    )


def _quota_exhausted(sim: Sim, events: Sequence[SimEvent], now: datetime) -> Finding | None:
    remaining = sim.data_remaining_mb
    used_up = remaining is not None and remaining <= Decimal(0)
    if not used_up and sim.data_quota_state != QUOTA_STATES["exhausted"].id:
        return None
    evidence = [f"Data left: {_mb(remaining)}."]
    notice = _latest(events, "used up", "exhausted")
    if notice:
        evidence.append(_event_fact(notice))
    return Finding(
        "bad",
        "The data quota is used up",
        "1NCE blocks data until the SIM is topped up. Order a top-up to bring it back.",
        tuple(evidence),
    )


def _quota_expired(sim: Sim, events: Sequence[SimEvent], now: datetime) -> Finding | None:
    if sim.data_expires_at is None or sim.data_expires_at > now:
        return None
    evidence = [f"The data quota expired on {sim.data_expires_at:%Y-%m-%d}."]
    notice = _latest(events, "expired")
    if notice:
        evidence.append(_event_fact(notice))
    return Finding(
        "bad",
        "The data quota has expired",
        "An expired quota blocks data even with volume left. A top-up renews it.",
        tuple(evidence),
    )


def _rejected(sim: Sim, events: Sequence[SimEvent], now: datetime) -> Finding | None:
    failure = next((e for e in events if _failed(e)), None)
    if failure is None:
        return None
    later_success = next(
        (
            e
            for e in events
            if e.occurred_at > failure.occurred_at
            and not _failed(e)
            and ("update location" in e.event_type.lower() or "create pdp" in e.event_type.lower())
        ),
        None,
    )
    if later_success:
        return None
    cause = _cause(failure)
    if cause:
        title, advice = FAILURE_CAUSES[cause]
        return Finding("bad", title, advice, (f"{_event_fact(failure)} ({cause})",))
    return Finding(
        "bad",
        "The network rejected the device",
        "The last registration or session attempt failed. Check roaming coverage and the "
        "device's APN settings, then reset the connectivity.",
        (_event_fact(failure),),
    )


def _online(sim: Sim, events: Sequence[SimEvent], now: datetime) -> Finding | None:
    if sim.online is not True:
        return None
    evidence = ["1NCE reports an open data session."]
    if sim.operator or sim.country:
        evidence.append(f"Network: {sim.operator or 'unknown'} ({sim.country or 'unknown'}).")
    advice = "No problem found: a data session is open."
    return Finding("ok", "The SIM is online", advice, tuple(evidence))


def _attachment(sim: Sim, events: Sequence[SimEvent], now: datetime) -> Finding:
    """Why a SIM that is not blocked has no session, from what the network saw last."""
    if sim.connectivity_status is None and sim.last_seen_at is None:
        return Finding(
            "unknown",
            "Connectivity not known yet",
            "Simfleet has not read this SIM's connectivity from 1NCE. Use “Check now”.",
        )
    seen = sim.last_seen_at
    if seen is None or now - seen > SILENT_AFTER:
        when = f"{seen:%Y-%m-%d %H:%M} UTC" if seen else "never"
        evidence = [f"Last seen by the network: {when}."]
        purge = _latest(events, "purge")
        if purge:
            evidence.append(_event_fact(purge))
        return Finding(
            "warn",
            "The device has not been on the network for a while",
            "It is probably switched off, out of coverage or without power. Check the device "
            "on site; nothing on the 1NCE side blocks it.",
            tuple(evidence),
        )
    evidence = [f"Connectivity: {sim.connectivity_status or 'unknown'}."]
    closed = _latest(events, "delete pdp")
    if closed:
        evidence.append(_event_fact(closed))
    return Finding(
        "warn",
        "Attached to the network, but no data session",
        "The device is registered but idle. If it should be sending, check its APN and data "
        "settings, or reset the connectivity to make it attach again.",
        tuple(evidence),
    )


# In order of how surely each explains a SIM without data (see the module docstring).
RULES = (
    _disabled, _blocked, _quota_exhausted, _quota_expired, _traffic_limit, _rejected, _online,
)  # fmt: skip


def _mb(value: Decimal | None) -> str:
    return "unknown" if value is None else f"{value:,.1f} MB"
