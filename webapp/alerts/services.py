"""Alert rules and alerts: create, change, enable, disable and delete rules (from a body
checked by `rules.parse_rule`), acknowledge and snooze alerts. Audited; callers commit."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from webapp.alerts.rules import RuleError, RuleSpec, parse_rule
from webapp.audit import record_audit
from webapp.extensions import db
from webapp.models import (
    Alert,
    AlertChannel,
    AlertRule,
    AlertRuleChannel,
    SavedView,
    User,
)
from webapp.models.base import utcnow


def list_rules() -> list[AlertRule]:
    """Every rule, by name."""
    return list(db.session.scalars(sa.select(AlertRule).order_by(AlertRule.name)))


def get_rule(*, rule_id: int) -> AlertRule | None:
    """One rule, or None."""
    return db.session.get(AlertRule, rule_id)


def rule_channels(*, rule_id: int) -> list[int]:
    """The ids of the channels a rule notifies."""
    return list(
        db.session.scalars(
            sa.select(AlertRuleChannel.channel_id)
            .where(AlertRuleChannel.rule_id == rule_id)
            .order_by(AlertRuleChannel.channel_id)
        )
    )


def rule_spec(rule: AlertRule) -> RuleSpec:
    """A saved rule as its specification (`rules.rule_body` makes the API's body of it)."""
    return RuleSpec(
        name=rule.name,
        severity=rule.severity,
        condition_type=rule.condition_type,
        condition_params=dict(rule.condition_params),
        target_type=rule.target_type,
        target_value=rule.target_value,
        enabled=rule.enabled,
        channels=tuple(rule_channels(rule_id=rule.id)),
        include_inactive=rule.include_inactive,
        cooldown_minutes=rule.cooldown_minutes,
    )


def create_rule(*, data: Mapping[str, Any], actor: User | None = None) -> AlertRule:
    """Save a new rule from an API-shaped body; RuleError names a bad field. Audited.

    Saving notifies nobody: the next evaluation does.
    """
    spec = check_references(parse_rule(data))
    rule = AlertRule(created_by=actor.id if actor else None)
    _apply(rule, spec, actor)
    db.session.add(rule)
    _flush_unique_name(spec.name)
    _link_channels(rule.id, spec.channels)
    record_audit(
        "alert_rule.create", actor=actor, target=f"alert_rule:{rule.id}", details=_audited(spec)
    )
    return rule


def update_rule(*, rule_id: int, data: Mapping[str, Any], actor: User | None = None) -> AlertRule:
    """Replace a rule's specification (a PATCH merges into `rule_body(rule_spec(rule))`
    first); LookupError if there is no such rule. Audited. Its open alerts stay open until
    the next evaluation decides."""
    rule = _existing(rule_id)
    spec = check_references(parse_rule(data))
    _apply(rule, spec, actor)
    _flush_unique_name(spec.name)
    db.session.execute(sa.delete(AlertRuleChannel).where(AlertRuleChannel.rule_id == rule.id))
    _link_channels(rule.id, spec.channels)
    record_audit(
        "alert_rule.update", actor=actor, target=f"alert_rule:{rule.id}", details=_audited(spec)
    )
    return rule


def set_rule_enabled(*, rule_id: int, enabled: bool, actor: User | None = None) -> AlertRule:
    """Enable or disable a rule. Disabling resolves its open alerts without notifying (they
    are no longer watched). Audited."""
    rule = _existing(rule_id)
    rule.enabled, rule.updated_at = enabled, utcnow()
    rule.updated_by = actor.id if actor else None
    if not enabled:
        db.session.execute(
            sa.update(Alert)
            .where(Alert.rule_id == rule.id, Alert.state != "resolved")
            .values(state="resolved", resolved_at=utcnow())
        )
    action = "alert_rule.enable" if enabled else "alert_rule.disable"
    record_audit(action, actor=actor, target=f"alert_rule:{rule.id}", details={"name": rule.name})
    return rule


def delete_rule(*, rule_id: int, actor: User | None = None) -> bool:
    """Delete a rule with its alerts and their notifications; False if none. Audited."""
    rule = get_rule(rule_id=rule_id)
    if rule is None:
        return False
    record_audit(
        "alert_rule.delete",
        actor=actor,
        target=f"alert_rule:{rule.id}",
        details={"name": rule.name},
    )
    db.session.delete(rule)
    db.session.flush()
    return True


def acknowledge_alert(*, alert_id: int, actor: User | None = None) -> Alert | None:
    """Mark a firing alert acknowledged (someone is on it); None if no such open alert.
    Audited. It stays acknowledged until it resolves or re-opens."""
    alert = _open_alert(alert_id)
    if alert is None:
        return None
    if alert.state == "firing":
        alert.state, alert.acknowledged_at = "acknowledged", utcnow()
        alert.acknowledged_by = actor.id if actor else None
        record_audit("alert.acknowledge", actor=actor, target=f"alert:{alert.id}")
    return alert


def snooze_alert(
    *, alert_id: int, until: datetime | None, actor: User | None = None
) -> Alert | None:
    """Snooze an open alert until a time (None ends the snooze): no notification about it, or
    about the same rule and SIM firing again, goes out before then. Audited."""
    alert = _open_alert(alert_id)
    if alert is None:
        return None
    alert.snoozed_until = until
    details = {"until": until.isoformat() if until else None}
    record_audit("alert.snooze", actor=actor, target=f"alert:{alert.id}", details=details)
    return alert


def _open_alert(alert_id: int) -> Alert | None:
    return db.session.scalar(
        sa.select(Alert).where(Alert.id == alert_id, Alert.state != "resolved").with_for_update()
    )


def _existing(rule_id: int) -> AlertRule:
    rule = get_rule(rule_id=rule_id)
    if rule is None:
        raise LookupError(f"no alert rule {rule_id}")
    return rule


def check_references(spec: RuleSpec) -> RuleSpec:
    """Check what parse_rule cannot: the channels and the saved view exist."""
    if spec.channels:
        known = set(
            db.session.scalars(sa.select(AlertChannel.id).where(AlertChannel.id.in_(spec.channels)))
        )
        for index, channel_id in enumerate(spec.channels):
            if channel_id not in known:
                raise RuleError(f"channels[{index}]", f"there is no channel {channel_id}")
    if (
        spec.target_type == "view"
        and db.session.get(SavedView, int(spec.target_value or 0)) is None
    ):
        raise RuleError("target.value", f"there is no saved view {spec.target_value}")
    return spec


def _apply(rule: AlertRule, spec: RuleSpec, actor: User | None) -> None:
    rule.name, rule.enabled, rule.severity = spec.name, spec.enabled, spec.severity
    rule.target_type, rule.target_value = spec.target_type, spec.target_value
    rule.condition_type, rule.condition_params = spec.condition_type, spec.condition_params
    rule.include_inactive, rule.cooldown_minutes = spec.include_inactive, spec.cooldown_minutes
    rule.updated_at, rule.updated_by = utcnow(), actor.id if actor else None


def _flush_unique_name(name: str) -> None:
    """Flush, turning a taken name into a RuleError on `name`."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as exc:
        if "uq_alert_rules_name" in str(exc.orig):
            raise RuleError("name", f"a rule named {name!r} exists already") from None
        raise


def _link_channels(rule_id: int, channel_ids: tuple[int, ...]) -> None:
    for channel_id in channel_ids:
        db.session.add(AlertRuleChannel(rule_id=rule_id, channel_id=channel_id))
    db.session.flush()


def _audited(spec: RuleSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "severity": spec.severity,
        "condition": {"type": spec.condition_type, **spec.condition_params},
        "target": {"type": spec.target_type, "value": spec.target_value},
        "channels": list(spec.channels),
        "enabled": spec.enabled,
    }
