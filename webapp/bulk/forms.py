"""The bulk bar's form (and the preview's confirm form): form fields in, a BulkRequest out.

What a bulk action may do (the actions, the label's length, the number of SIMs) is decided in
`webapp.bulk.services`; this module reads the form and words what is wrong with it.
"""

from werkzeug.datastructures import MultiDict

from webapp.bulk.services import (
    ACTIONS,
    FILTER_PREFIX,
    MAX_BULK_SIMS,
    MAX_LABEL,
    BulkRequest,
    label_pattern_parts,
)
from webapp.errors import QueryError
from webapp.one_nce.parsing import is_iccid
from webapp.sim_queries import SimFilters


class BulkInvalid(ValueError):
    """A bulk request cannot be carried out as given; `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def view_args_of(form: MultiDict[str, str]) -> dict[str, str]:
    """The inventory view the form came from (its `filter.*` fields), for links back to it."""
    return {
        key.removeprefix(FILTER_PREFIX): value
        for key, value in form.items()
        if key.startswith(FILTER_PREFIX) and value != ""
    }


def parse_bulk_request(form: MultiDict[str, str]) -> BulkRequest:
    """Read the bulk bar's (or the preview's) form; BulkInvalid names the first bad field."""
    action = form.get("action", "")
    if action not in ACTIONS:
        raise BulkInvalid("action", "Choose an action.")
    values = {}
    if action == "label":
        values = {"label": _label_pattern(form)}
    scope = form.get("scope", "selected")
    if scope == "all":
        view_args = view_args_of(form)
        try:
            SimFilters.from_args(view_args)
        except QueryError as exc:
            raise BulkInvalid(exc.field, f"The view's filter {exc.field} {exc.message}.") from None
        return BulkRequest(action, values, view_args=view_args)
    if scope != "selected":
        raise BulkInvalid("scope", "Choose the selected SIMs or all SIMs matching the view.")
    iccids = tuple(dict.fromkeys(form.getlist("iccid")))
    if not iccids:
        raise BulkInvalid("iccid", "Select at least one SIM, or choose all SIMs matching the view.")
    if not all(is_iccid(iccid) for iccid in iccids):
        raise BulkInvalid("iccid", "A selected ICCID is malformed.")
    if len(iccids) > MAX_BULK_SIMS:
        raise BulkInvalid("iccid", f"Select at most {MAX_BULK_SIMS:,} SIMs.")
    return BulkRequest(action, values, iccids=iccids)


def _label_pattern(form: MultiDict[str, str]) -> str:
    """The new label: plain text, or a pattern naming {label} and {iccid}."""
    pattern = (form.get("new_label") or "").strip()
    if not pattern or len(pattern) > MAX_LABEL or "\x00" in pattern:
        raise BulkInvalid("new_label", f"Give a label of 1 to {MAX_LABEL} characters.")
    try:
        label_pattern_parts(pattern)
    except ValueError:
        raise BulkInvalid(
            "new_label",
            "A label may name {label} (the current label) and {iccid}, nothing else;"
            " write {{ and }} for a brace itself.",
        ) from None
    return pattern
