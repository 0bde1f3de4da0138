"""Helpers of the browser tests: console watch, htmx idle, charts, screenshots."""

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

PAINT_TIMEOUT_MS = 3_000
PHONE_VIEWPORT = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Counts htmx requests in flight and remembers the last htmx event, per document. An init
# script runs before the page's own scripts and is not subject to the page's CSP.
HTMX_PROBE = """
(() => {
  const probe = { pending: 0, lastEvent: 0 };
  window.__simfleetHtmx = probe;
  const touch = () => { probe.lastEvent = performance.now(); };
  document.addEventListener("htmx:beforeSend", () => { probe.pending += 1; touch(); });
  document.addEventListener("htmx:afterRequest", () => {
    probe.pending = Math.max(0, probe.pending - 1); touch();
  });
  for (const name of ["htmx:beforeRequest", "htmx:afterSwap", "htmx:afterSettle"]) {
    document.addEventListener(name, touch);
  }
})();
"""

HTMX_IDLE = """
(quietMs) => {
  const probe = window.__simfleetHtmx;
  if (!probe || document.readyState !== "complete") return false;
  const busy = document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling");
  return probe.pending === 0 && !busy && performance.now() - probe.lastEvent >= quietMs;
}
"""


@dataclass
class PageWatch:
    """What a page reported: console errors (CSP violations among them) and uncaught errors."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Accept console errors matching `pattern` (e.g. the 401 of a wrong password)."""
        self.allowed.append(re.compile(pattern))

    def problems(self) -> list[str]:
        """The errors no test allowed."""
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


def watch_page(page: Page) -> PageWatch:
    """Collect the page's console errors and uncaught exceptions into `page.watch`."""
    watch = PageWatch()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url") or page.url
            watch.errors.append(f"console error on {where}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.errors.append(f"uncaught on {page.url}: {error}"))
    page.add_init_script(HTMX_PROBE)
    page.watch = watch
    return watch


def wait_for_htmx_idle(page: Page, *, quiet_ms: int = 150, timeout_ms: int = 10_000) -> None:
    """Wait until no htmx request is in flight or settling and none happened for `quiet_ms`.

    Call it after an action that triggers htmx (typing into a search, clicking a range
    button): a debounced request that has not started yet keeps the page "not quiet".
    """
    page.wait_for_function(HTMX_IDLE, arg=quiet_ms, timeout=timeout_ms)


@dataclass(frozen=True)
class ChartCheck:
    """What a chart was given and what it drew."""

    source: str
    points: int
    painted_pixels: int

    def __bool__(self) -> bool:
        return self.points > 0 and self.painted_pixels > 0


CANVAS_PIXELS = """
(container) => {
  const canvas = container.querySelector("canvas");
  if (!canvas || !canvas.width || !canvas.height) return 0;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted += 1;
  return painted;
}
"""


CHART_DATA = """
async (source) => {
  const response = await fetch(source, { headers: { Accept: "application/json" } });
  return { status: response.status, payload: response.ok ? await response.json() : null };
}
"""


def chart_has_data(page: Page, selector: str, *, source_attribute: str = "data-src") -> ChartCheck:
    """Check the uPlot chart in `selector`: the JSON it was given has points, its canvas is drawn.

    The chart's container names its JSON endpoint in `source_attribute`; the answer is either
    uPlot's aligned data (`[[x...], [y...], ...]`, bare or under a "data" key) or named
    columns (`{"days": [...], "data_rx_mb": [...], ...}`), as the app's charts serve it. The
    page fetches it itself, as the chart's script does (same cookies, same CSP). The result
    is truthy when some series has a number and the (first) canvas has painted pixels.
    """
    container = page.locator(selector)
    container.locator("canvas").first.wait_for(state="visible")
    source = container.get_attribute(source_attribute)
    if not source:
        raise AssertionError(f"{selector} has no {source_attribute} attribute naming its data")
    answer = page.evaluate(CHART_DATA, source)
    if answer["payload"] is None:
        raise AssertionError(f"{source} answered {answer['status']}")
    points = _points(answer["payload"])
    # uPlot draws after its constructor returns: give it a moment to paint.
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(
            f"(container) => ({CANVAS_PIXELS})(container) > 0",
            arg=container.element_handle(),
            timeout=PAINT_TIMEOUT_MS,
        )
    return ChartCheck(
        source=source, points=points, painted_pixels=container.evaluate(CANVAS_PIXELS)
    )


def _points(payload) -> int:
    """The numbers of a chart's series: aligned data past its x column, or named columns."""
    if isinstance(payload, dict) and "data" in payload:
        payload = payload["data"]
    if isinstance(payload, list):
        series = payload[1:]
    else:
        series = [value for value in payload.values() if isinstance(value, list)]
    return sum(
        1
        for values in series
        for value in values
        if isinstance(value, int | float) and not isinstance(value, bool)
    )


def screenshot(page: Page, name: str, *, phone: bool = False) -> Path | None:
    """Save a full-page PNG as docs/screenshots/<name>.png when SIMFLEET_SCREENSHOTS=1.

    Screenshots are taken by the browser tests at the moments they show a page in a typical
    state, so `make screenshots` regenerates them all from a real stack. With `phone`, the
    page is also taken at a phone's width (PHONE_VIEWPORT) as <name>-phone.png.
    """
    if os.environ.get("SIMFLEET_SCREENSHOTS") != "1":
        return None
    wait_for_htmx_idle(page)
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    if phone:
        viewport = page.viewport_size
        page.set_viewport_size(PHONE_VIEWPORT)
        wait_for_htmx_idle(page)
        page.screenshot(
            path=str(SCREENSHOTS / f"{name}-phone.png"),
            full_page=True,
            animations="disabled",
            caret="hide",
        )
        page.set_viewport_size(viewport)
    return path
