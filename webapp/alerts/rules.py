"""The rule specification: a rule parsed and validated from the API's body shape.

    {name, enabled, severity, target: {type, value}, condition: {type, ...params},
     channels: [ids], include_inactive, cooldown_minutes}

into a `RuleSpec`, or raise `RuleError` naming the field (the API answers 422 with it, forms
show its message beside the field). Pure: no database; the services check that channels and
saved views exist.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from webapp.models.alert import SEVERITIES, TARGET_TYPES
from webapp.models.sync import SYNC_KINDS

MAX_NAME = 100
MAX_PATTERN = 255
MAX_COOLDOWN_MINUTES = 7 * 24 * 60
DEFAULT_COOLDOWN_MINUTES = 60
REQUIRED = object()
ANOMALY_SENSITIVITIES = ("low", "medium", "high")
TOP_LEVEL = (
    "name", "enabled", "severity", "target", "condition", "channels", "include_inactive",
    "cooldown_minutes",
)  # fmt: skip


class RuleError(ValueError):
    """A rule that cannot be saved: `field` is where ("condition.percent"), `message` why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Param:
    """One parameter of a condition: its type, bounds or choices, and default."""

    name: str
    kind: type
    default: Any = REQUIRED
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Condition:
    """A condition type: its parameters, and whether it is about SIMs at all (system
    conditions have one alert per rule) and about quotas or usage (Enabled SIMs only unless
    the rule includes inactive ones)."""

    params: tuple[Param, ...] = ()
    system: bool = False
    quota_or_usage: bool = False


CONDITIONS: dict[str, Condition] = {
    "data_quota_below_percent": Condition(
        (Param("percent", float, low=0, high=100),), quota_or_usage=True
    ),
    "data_quota_below_mb": Condition((Param("mb", float, low=0, high=10**9),), quota_or_usage=True),
    "sms_quota_below_percent": Condition(
        (Param("percent", float, low=0, high=100),), quota_or_usage=True
    ),
    "sms_quota_below_count": Condition(
        (Param("count", int, low=1, high=10**6),), quota_or_usage=True
    ),
    "quota_exhausted": Condition(
        (Param("quota", str, "data", choices=("data", "sms")),), quota_or_usage=True
    ),
    "data_exhaustion_within_days": Condition(
        (Param("days", int, low=1, high=365),), quota_or_usage=True
    ),
    "expiry_within_days": Condition(
        (
            Param("days", int, low=1, high=3650),
            Param("quota", str, "any", choices=("any", "data", "sms")),
        ),
        quota_or_usage=True,
    ),
    "usage_anomaly": Condition(
        (
            Param("sensitivity", str, "medium", choices=ANOMALY_SENSITIVITIES),
            Param("min_mb", float, 5.0, low=0.001, high=10**6),
        ),
        quota_or_usage=True,
    ),
    # Exactly one of `hours` (no connectivity) and `learned` (no traffic beyond the usual gap).
    "silent": Condition(
        (Param("hours", int, None, low=1, high=24 * 365), Param("learned", bool, None)),
        quota_or_usage=True,
    ),
    "status_changed": Condition((Param("hours", int, 24, low=1, high=24 * 30),)),
    "imei_changed": Condition((Param("hours", int, 24, low=1, high=24 * 30),)),
    "sim_removed": Condition(),
    "sync_stale": Condition(
        (Param("kind", str, choices=SYNC_KINDS), Param("intervals", int, 2, low=1, high=1000)),
        system=True,
    ),
    "once_error_rate": Condition(
        (Param("percent", float, low=0, high=100), Param("hours", int, 1, low=1, high=24 * 7)),
        system=True,
    ),
    "api_version_retired": Condition((Param("days", int, 0, low=0, high=365),), system=True),
}


@dataclass(frozen=True)
class RuleSpec:
    """A valid rule, as saved; `condition_params` has every default filled in."""

    name: str
    severity: str
    condition_type: str
    condition_params: dict[str, Any]
    target_type: str = "all"
    target_value: str | None = None
    enabled: bool = True
    channels: tuple[int, ...] = ()
    include_inactive: bool = False
    cooldown_minutes: int = DEFAULT_COOLDOWN_MINUTES

    @property
    def condition(self) -> Condition:
        """The condition type's definition."""
        return CONDITIONS[self.condition_type]


def parse_rule(data: Mapping[str, Any]) -> RuleSpec:
    """Validate a rule body; raise RuleError naming the first bad field."""
    if not isinstance(data, Mapping):
        raise RuleError("rule", "must be an object")
    for key in data:
        if key not in TOP_LEVEL:
            raise RuleError(str(key), "is not a field of a rule")
    condition_type, params = _condition(data.get("condition"))
    target_type, target_value = _target(data.get("target", {"type": "all"}))
    if CONDITIONS[condition_type].system and target_type != "all":
        raise RuleError("target.type", "a system condition is about no SIM: use all")
    return RuleSpec(
        name=_name(data.get("name")),
        severity=_choice(data.get("severity", REQUIRED), "severity", SEVERITIES),
        condition_type=condition_type,
        condition_params=params,
        target_type=target_type,
        target_value=target_value,
        enabled=_boolean(data.get("enabled", True), "enabled"),
        channels=_channels(data.get("channels", [])),
        include_inactive=_boolean(data.get("include_inactive", False), "include_inactive"),
        cooldown_minutes=_integer(
            data.get("cooldown_minutes", DEFAULT_COOLDOWN_MINUTES),
            "cooldown_minutes",
            0,
            MAX_COOLDOWN_MINUTES,
        ),
    )


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleError("name", "a rule needs a name")
    if len(value.strip()) > MAX_NAME:
        raise RuleError("name", f"at most {MAX_NAME} characters")
    return value.strip()


def _target(value: Any) -> tuple[str, str | None]:
    if not isinstance(value, Mapping):
        raise RuleError("target", 'must be an object such as {"type": "all"}')
    for key in value:
        if key not in ("type", "value"):
            raise RuleError(f"target.{key}", "is not a field of a target")
    target_type = _choice(value.get("type", REQUIRED), "target.type", TARGET_TYPES)
    raw = value.get("value")
    if target_type == "all":
        if raw not in (None, ""):
            raise RuleError("target.value", "all SIMs take no value")
        return target_type, None
    if target_type == "view":
        return target_type, str(_integer(raw, "target.value", 1, 2**31 - 1))
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_PATTERN:
        raise RuleError("target.value", f"a label pattern of 1 to {MAX_PATTERN} characters")
    return target_type, raw.strip()


def _condition(value: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(value, Mapping):
        raise RuleError("condition", "must be an object with a type")
    condition_type = _choice(value.get("type", REQUIRED), "condition.type", tuple(CONDITIONS))
    known = {param.name: param for param in CONDITIONS[condition_type].params}
    for key in value:
        if key != "type" and key not in known:
            raise RuleError(f"condition.{key}", f"is not a parameter of {condition_type}")
    params = {
        name: _param(param, value.get(name, param.default), f"condition.{name}")
        for name, param in known.items()
    }
    if condition_type == "silent":
        params = _silent(params)
    return condition_type, params


def _silent(params: dict[str, Any]) -> dict[str, Any]:
    if (params["hours"] is None) == (not params["learned"]):
        raise RuleError("condition.hours", "give either hours or learned: true")
    return {"hours": params["hours"]} if params["hours"] is not None else {"learned": True}


def _param(param: Param, value: Any, where: str) -> Any:
    if value is REQUIRED:
        raise RuleError(where, "is required")
    if value is None and param.default is None:
        return None
    if param.choices:
        return _choice(value, where, param.choices)
    if param.kind is bool:
        return _boolean(value, where)
    if param.kind is int:
        return _integer(value, where, param.low or 0, param.high or 2**31 - 1)
    return _number(value, where, param.low or 0, param.high or 10**9)


def _choice(value: Any, where: str, choices: tuple[str, ...]) -> str:
    if value is REQUIRED:
        raise RuleError(where, "is required")
    if value not in choices:
        raise RuleError(where, f"must be one of {', '.join(choices)}")
    return value


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise RuleError(where, "must be true or false")
    return value


def _integer(value: Any, where: str, low: float, high: float) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.isdigit() and value.isascii():
            value = int(value)
        else:
            raise RuleError(where, "must be a whole number")
    _bounded(value, where, low, high, inclusive_low=True)
    return value


def _number(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleError(where, "must be a number")
    _bounded(float(value), where, low, high, inclusive_low=False)
    return float(value)


def _bounded(value: float, where: str, low: float, high: float, *, inclusive_low: bool) -> None:
    too_low = value < low if inclusive_low else value <= low
    if too_low or value > high:
        above = "at least" if inclusive_low else "above"
        raise RuleError(where, f"must be {above} {low:g} and at most {high:g}")


def _channels(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise RuleError("channels", "must be a list of channel ids")
    ids = [_integer(item, f"channels[{i}]", 1, 2**31 - 1) for i, item in enumerate(value)]
    return tuple(dict.fromkeys(ids))


def rule_body(spec: RuleSpec) -> dict[str, Any]:
    """The API's body of a rule (the inverse of parse_rule)."""
    target: dict[str, Any] = {"type": spec.target_type}
    if spec.target_value is not None:
        target["value"] = (
            int(spec.target_value) if spec.target_type == "view" else spec.target_value
        )
    return {
        "name": spec.name,
        "enabled": spec.enabled,
        "severity": spec.severity,
        "target": target,
        "condition": {"type": spec.condition_type, **spec.condition_params},
        "channels": list(spec.channels),
        "include_inactive": spec.include_inactive,
        "cooldown_minutes": spec.cooldown_minutes,
    }
