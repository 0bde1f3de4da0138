"""Rule bodies: every condition type parses with its defaults; a bad field is named; the
services check references, keep names unique and audit every change."""

import pytest
import sqlalchemy as sa

from webapp.alerts.rules import CONDITIONS, RuleError, parse_rule, rule_body
from webapp.alerts.services import (
    create_rule,
    delete_rule,
    rule_spec,
    set_rule_enabled,
    update_rule,
)
from webapp.extensions import db
from webapp.models import AlertRule, AuditEvent

EXAMPLES = {
    "data_quota_below_percent": {"percent": 20},
    "data_quota_below_mb": {"mb": 50},
    "sms_quota_below_percent": {"percent": 10},
    "sms_quota_below_count": {"count": 5},
    "quota_exhausted": {},
    "data_exhaustion_within_days": {"days": 7},
    "expiry_within_days": {"days": 30},
    "usage_anomaly": {"sensitivity": "low"},
    "silent": {"hours": 48},
    "status_changed": {},
    "imei_changed": {},
    "sim_removed": {},
    "sync_stale": {"kind": "usage", "intervals": 3},
    "once_error_rate": {"percent": 5},
    "api_version_retired": {},
}


def body(**fields) -> dict:
    return {"name": "dry SIMs", "severity": "warning",
            "condition": {"type": "quota_exhausted"}} | fields  # fmt: skip


def test_every_condition_type_has_an_example():
    assert set(EXAMPLES) == set(CONDITIONS)


@pytest.mark.parametrize("condition_type", EXAMPLES)
def test_each_condition_parses_and_round_trips(condition_type):
    spec = parse_rule(body(condition={"type": condition_type, **EXAMPLES[condition_type]}))
    assert parse_rule(rule_body(spec)) == spec


def test_defaults():
    spec = parse_rule(body(condition={"type": "usage_anomaly"}))
    assert spec.condition_params == {"sensitivity": "medium", "min_mb": 5.0}
    assert (spec.target_type, spec.target_value, spec.enabled) == ("all", None, True)
    assert (spec.cooldown_minutes, spec.include_inactive, spec.channels) == (60, False, ())
    assert parse_rule(body(condition={"type": "silent", "learned": True})).condition_params == {
        "learned": True
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": " "}, "name"),
        ({"severity": "urgent"}, "severity"),
        ({"condition": {"type": "data_quota_below_percent"}}, "condition.percent"),
        ({"condition": {"type": "data_quota_below_percent", "percent": 0}}, "condition.percent"),
        ({"condition": {"type": "data_quota_below_percent", "percent": "5"}}, "condition.percent"),
        ({"condition": {"type": "data_quota_below_mb", "mb": 5, "days": 3}}, "condition.days"),
        ({"condition": {"type": "nope"}}, "condition.type"),
        ({"condition": {"type": "silent"}}, "condition.hours"),
        ({"condition": {"type": "silent", "hours": 5, "learned": True}}, "condition.hours"),
        ({"condition": {"type": "usage_anomaly", "sensitivity": "max"}}, "condition.sensitivity"),
        ({"condition": {"type": "sync_stale", "kind": "x"}}, "condition.kind"),
        ({"target": {"type": "label"}}, "target.value"),
        ({"target": {"type": "all", "value": "x"}}, "target.value"),
        ({"target": {"type": "view", "value": "abc"}}, "target.value"),
        ({"target": {"type": "label", "value": "a"},
          "condition": {"type": "sync_stale", "kind": "usage"}}, "target.type"),
        ({"channels": [1, "x"]}, "channels[1]"),
        ({"enabled": "yes"}, "enabled"),
        ({"cooldown_minutes": -1}, "cooldown_minutes"),
        ({"colour": "red"}, "colour"),
    ],
)  # fmt: skip
def test_a_bad_field_is_named(fields, field):
    with pytest.raises(RuleError) as raised:
        parse_rule(body(**fields))
    assert raised.value.field == field
    assert isinstance(raised.value, ValueError)


def test_services_check_references_and_audit(app, channel, make_user):
    admin = make_user("admin")
    rule = create_rule(data=body(channels=[channel.id]), actor=admin)
    db.session.commit()
    assert rule_spec(rule).channels == (channel.id,)
    with pytest.raises(RuleError) as raised:
        create_rule(data=body(name="other", channels=[channel.id, 999]))
    assert raised.value.field == "channels[1]"
    db.session.rollback()
    with pytest.raises(RuleError) as raised:
        create_rule(data=body())
    assert raised.value.field == "name"
    db.session.rollback()
    with pytest.raises(RuleError) as raised:
        create_rule(data=body(name="v", target={"type": "view", "value": 12345}))
    assert raised.value.field == "target.value"
    db.session.rollback()
    update_rule(rule_id=rule.id, data=body(severity="critical", channels=[]), actor=admin)
    set_rule_enabled(rule_id=rule.id, enabled=False, actor=admin)
    db.session.commit()
    assert (rule.severity, rule.enabled, rule_spec(rule).channels) == ("critical", False, ())
    assert delete_rule(rule_id=rule.id, actor=admin)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AlertRule)) == 0
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.action.startswith("alert_rule."))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "alert_rule.create",
        "alert_rule.update",
        "alert_rule.disable",
        "alert_rule.delete",
    ]
