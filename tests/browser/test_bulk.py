"""Bulk actions from the inventory: preview, confirm, progress, results; 1NCE gets the changes.

The job runs in the real worker against the simulator; the simulator's fleet is the ground
truth that the labels were set.
"""

import re

from playwright.sync_api import Page, expect

from tests.browser.fleet_data import BULK_ALL, BULK_SELECTED, matching_iccids, shown_iccids
from tests.browser.helpers import screenshot
from tests.helpers import eventually

JOB_TIMEOUT_MS = 60_000


def run_previewed_job(page: Page, stack, *, changing: int, failed: int = 0) -> None:
    """From the dry run of `changing` SIMs: confirm, then wait on the job page for the end."""
    preview = page.locator("#bulk-preview")
    expect(preview.get_by_role("heading", level=2).first).to_have_text(
        "Dry run: nothing has changed yet"
    )
    expect(preview.locator("dt:text-is('Will change') + dd")).to_have_text(f"{changing}")
    sims = "SIM" if changing == 1 else "SIMs"
    preview.get_by_role("button", name=f"Set label {changing} {sims}").click()

    expect(page).to_have_url(re.compile(rf"{re.escape(stack.url)}/bulk/\d+$"))
    expect(page.locator(".flash-success")).to_have_text(re.compile(r"Bulk job \d+ queued\."))
    progress = page.locator("#bulk-progress")
    expect(progress.get_by_role("progressbar", name="SIMs done")).to_be_visible()
    expect(progress.locator(".bulk-state .badge")).to_have_text("done", timeout=JOB_TIMEOUT_MS)
    expect(progress.get_by_role("progressbar", name="SIMs done")).to_have_attribute(
        "value", f"{changing}"
    )
    failures = f", {failed} failed" if failed else ""
    expect(progress.locator(".bulk-counts")).to_have_text(
        f"{changing} of {changing} SIMs done{failures}"
    )


def results(page: Page) -> dict[str, str]:
    """The job's results per SIM: ICCID to outcome."""
    rows = page.locator("table.bulk-results tbody tr")
    return dict(
        zip(
            rows.locator("td:nth-child(1)").all_inner_texts(),
            rows.locator("td:nth-child(2)").all_inner_texts(),
            strict=True,
        )
    )


def wait_for_simulator_labels(stack, iccids: list[str], label: str) -> None:
    """Wait until the simulator (1NCE) shows `label` on every SIM of `iccids`."""
    fleet = stack.simulator.fleet

    def missing() -> list[str]:
        return [iccid for iccid in iccids if fleet.sim(iccid).label != label]

    eventually(
        lambda: not missing(),
        timeout=JOB_TIMEOUT_MS / 1000,
        interval=0.1,
        message=lambda: f"1NCE did not get the label on {missing()}",
    )


def test_an_operator_relabels_the_selected_sims(signed_in_page, stack):
    expected = matching_iccids(stack, BULK_SELECTED)
    chosen = [iccid for iccid in expected if not stack.simulator.fleet.is_expired(iccid)][:2]
    page = signed_in_page("operator")
    page.goto(f"/sims?q={BULK_SELECTED}")
    assert shown_iccids(page) == expected

    for iccid in chosen:
        page.get_by_role("checkbox", name=f"Select SIM {iccid}").check()
    bar = page.locator("#bulk-form")
    expect(bar.get_by_role("radio", name="Selected SIMs")).to_be_checked()
    bar.get_by_label("Action").select_option("label")
    bar.get_by_role("textbox", name="New label").fill("Cold store")
    bar.get_by_role("button", name="Preview").click()

    expect(page).to_have_url(f"{stack.url}/bulk/preview")
    expect(page.locator("#bulk-preview dt:text-is('SIMs selected') + dd")).to_have_text("2")
    sample = page.locator("#bulk-preview tbody td:first-child")
    expect(sample).to_have_text(chosen)
    run_previewed_job(page, stack, changing=2)

    assert results(page) == dict.fromkeys(chosen, "accepted")
    wait_for_simulator_labels(stack, chosen, "Cold store")
    others = [stack.simulator.fleet.sim(iccid).label for iccid in expected if iccid not in chosen]
    assert "Cold store" not in others


def test_an_operator_relabels_all_sims_matching_a_view(signed_in_page, stack):
    expected = matching_iccids(stack, BULK_ALL)
    page = signed_in_page("operator")
    page.goto(f"/sims?q={BULK_ALL}")
    expect(page.locator("#sim-results-summary")).to_have_text(f"{len(expected)} SIMs")

    bar = page.locator("#bulk-form")
    bar.get_by_role("radio", name=f"All {len(expected)} SIMs matching this view").check()
    bar.get_by_label("Action").select_option("label")
    bar.get_by_role("textbox", name="New label").fill("Harbour crane")
    bar.get_by_role("button", name="Preview").click()

    scope = page.locator("#bulk-preview dt:text-is('Scope') + dd")
    expect(scope).to_have_text(f"All SIMs matching q={BULK_ALL}")
    expect(page.locator("#bulk-preview dt:text-is('SIMs selected') + dd")).to_have_text(
        f"{len(expected)}"
    )
    # 1NCE refuses every change to an expired SIM: the job goes on and reports it per SIM.
    expired = [iccid for iccid in expected if stack.simulator.fleet.is_expired(iccid)]
    assert expired, "the view should hold an expired SIM (seed 7 has one in this decade)"
    run_previewed_job(page, stack, changing=len(expected), failed=len(expired))

    outcomes = {iccid: "failed" if iccid in expired else "accepted" for iccid in expected}
    assert results(page) == outcomes
    refused = page.locator("table.bulk-results tbody tr", has=page.get_by_text(expired[0]))
    expect(refused.locator("td.details")).to_contain_text("1NCE refuses changes to expired SIMs")
    accepted = [iccid for iccid in expected if iccid not in expired]
    expect(page.get_by_role("link", name=f"Accepted ({len(accepted)})")).to_be_visible()
    expect(page.get_by_role("link", name=f"Failed ({len(expired)})")).to_be_visible()
    wait_for_simulator_labels(stack, accepted, "Harbour crane")
    assert all(stack.simulator.fleet.sim(iccid).label != "Harbour crane" for iccid in expired)
    screenshot(page, "bulk-job")
