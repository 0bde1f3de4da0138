"""The SIM page's action forms: form fields in, typed action values or a sentence to show out.

What each action allows (choices, lengths, the reason's limit) is decided in
`webapp.sim_detail.actions`; this module only reads the forms and words their errors.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from webapp.sim_detail.actions import (
    ACTIONS,
    ActionInvalid,
    ActionSpec,
    validate_action,
    validate_reason,
)

# How an error names the form field it is about, at the start of its sentence.
FIELD_NAMES = {"payload": "The message", "imei_lock": "The IMEI lock", "reason": "The reason"}


class ActionFormInvalid(ValueError):
    """A field of an action form is missing or bad; `message` is the sentence to show."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class FormAction:
    """An action as the SIM page's forms ask for it, ready to confirm and perform."""

    name: str
    title: str
    spec: ActionSpec
    values: dict
    reason: str | None
    fields: dict[str, str]

    def describe(self) -> str:
        """What will happen, in a sentence for the confirmation step."""
        return FORM_ACTIONS[self.name][1](self.values)


def _describe_lock(values: dict) -> str:
    if values["imei_lock"]:
        return "Lock the SIM to the IMEI of the device it is in now."
    return "Unlock the SIM from its IMEI, so it works in any device."


# name: (title, description, action, required reason)
FORM_ACTIONS: dict[str, tuple[str, Callable[[dict], str], str, bool]] = {
    "enable": ("Enable SIM", lambda v: "Enable the SIM: it can attach and use data again.",
               "update", True),
    "disable": ("Disable SIM", lambda v: "Disable the SIM: it can no longer attach or use data.",
                "update", True),
    "label": ("Change label", lambda v: f"Set the label to “{v['label']}”." if v["label"]
              else "Remove the label.", "update", False),
    "imei_lock": ("IMEI lock", _describe_lock, "update", False),
    "topup": ("Top up", lambda v: "Order the plan's standard top-up for this SIM (charged).",
              "topup", False),
    "reset": ("Reset connectivity", lambda v: "Reset the connectivity: the device is detached "
              "and attaches again.", "reset", False),
    "sms": ("Send SMS", lambda v: f"Send an SMS of {len(v['payload'])} characters to the device.",
            "sms", False),
}  # fmt: skip


def parse_action_form(name: str, form: Mapping[str, str]) -> FormAction:
    """The action a SIM page form asks for; ActionFormInvalid when a value is missing or bad."""
    try:
        return _parse(name, form)
    except ActionInvalid as exc:
        raise ActionFormInvalid(exc.field, _sentence(exc)) from None


def _parse(name: str, form: Mapping[str, str]) -> FormAction:
    title, _, spec_name, reason_required = FORM_ACTIONS[name]
    fields: dict[str, str] = {}
    if name in ("enable", "disable"):
        values: dict[str, Any] = {"status": "Enabled" if name == "enable" else "Disabled"}
    elif name == "label":
        fields["label"] = form.get("label", "").strip()
        values = {"label": fields["label"]}
    elif name == "imei_lock":
        fields["imei_lock"] = form.get("imei_lock", "")
        if fields["imei_lock"] not in ("true", "false"):
            raise ActionInvalid("imei_lock", "must be lock or unlock")
        values = {"imei_lock": fields["imei_lock"] == "true"}
    elif name == "topup":
        fields["payment_method"] = form.get("payment_method", "banktransfer")
        values = {"payment_method": fields["payment_method"]}
    elif name == "sms":
        fields["payload"] = form.get("payload", "")
        values = {"payload": fields["payload"]}
    else:
        values = {}
    spec = ACTIONS[spec_name]
    values = validate_action(spec, values)
    reason = validate_reason(form.get("reason"), required=reason_required)
    return FormAction(name, title, spec, values, reason, fields)


def _sentence(error: ActionInvalid) -> str:
    field = FIELD_NAMES.get(error.field, f"The {error.field.replace('_', ' ')}")
    return f"{field} {error.message}."
