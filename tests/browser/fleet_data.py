"""The browser flows' share of the simulator's fleet, and the synced rows they expect."""

import sqlalchemy as sa
from playwright.sync_api import Page

from webapp.extensions import db
from webapp.models import Sim

# The fleet (200 SIMs, seed 7) has the ICCIDs ...9027 to ...9226. Each flow that changes SIMs
# works in a decade of its own, searched for by this part of the ICCID, so that the flows
# pass in any order: the bulk and export flows own the decades from ...9150 on, the search
# flow takes its SIM below FIRST_RESERVED.
FIRST_RESERVED = "8988228066601649150"
BULK_SELECTED = "6660164915"
BULK_ALL = "6660164916"
EXPORTED = "6660164917"
SEARCHED = (Sim.iccid, Sim.imsi, Sim.msisdn, Sim.imei, Sim.ip_address, Sim.label)


def matching_iccids(stack, part: str, *conditions) -> list[str]:
    """The synced SIMs with `part` in an identifier or the label, and `conditions`, by ICCID."""
    search = sa.or_(*(column.contains(part) for column in SEARCHED))
    query = sa.select(Sim.iccid).where(search, *conditions).order_by(Sim.iccid)
    with stack.app.app_context():
        return list(db.session.scalars(query))


def shown_iccids(page: Page) -> list[str]:
    """The ICCIDs of the inventory's rows, in the page's order."""
    return page.locator("#sim-results tbody td.inv-id a").all_inner_texts()
