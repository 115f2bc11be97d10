"""Chromium (Debian's, through Playwright): click to the next step's focused heading, and the
same wizard on a throttled phone-like connection (Fast 3G, CPU 4 times slower, over CDP)."""

from __future__ import annotations

import os
import re
import statistics
from contextlib import contextmanager
from pathlib import Path

from wizard.testing.chromium import chromium_args

# DevTools' "Fast 3G" preset: 1.6 Mbit/s down and 750 kbit/s up at 90%, 150 ms x 3.75 latency.
FAST_3G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1.6 * 1000 * 1000 / 8 * 0.9,
    "uploadThroughput": 750 * 1000 / 8 * 0.9,
}
CPU_SLOWDOWN = 4
STEP_1 = "/enroll/get-app"
STEP_1_SHOWN = "/enroll/get-app?device=iphone&show=1"

MEASURE_JS = """([buttonName]) => {
    window.__clickToFocus = undefined;
    const button = [...document.querySelectorAll('#step-panel button')]
        .find(b => b.textContent.trim() === buttonName);
    let clicked;
    button.addEventListener('click', () => { clicked = performance.now(); },
                            {capture: true, once: true});
    const onFocus = (event) => {
        if (clicked !== undefined && event.target.id === 'step-heading') {
            window.__clickToFocus = performance.now() - clicked;
            document.removeEventListener('focusin', onFocus, true);
        }
    };
    document.addEventListener('focusin', onFocus, true);
}"""


def click_to_focus(port: int, cookie: str, repeats: int, credential_id: str) -> dict:
    """Milliseconds from the click on Continue (in the page's clock) to focus landing on the
    next step's heading, after htmx swapped it in: step 1 -> 2 and step 2 -> 3."""
    base = f"http://127.0.0.1:{port}"
    name, value = cookie.split("=", 1)
    results: dict[str, list[float]] = {"1->2": [], "2->3": []}
    with chromium() as browser:
        if browser is None:
            return {"skipped": "no Chromium"}
        context = browser.new_context(base_url=base)
        context.add_cookies([{"name": name, "value": value, "url": base}])
        page = context.new_page()
        for _ in range(repeats):
            page.goto(STEP_1_SHOWN)
            page.wait_for_load_state()
            page.wait_for_function("() => typeof htmx === 'object'")
            page.get_by_label(re.compile("different device from the one I use")).check()
            results["1->2"].append(_swap(page))
            page.get_by_label("Credential ID").fill(credential_id)
            results["2->3"].append(_swap(page))
    both = results["1->2"] + results["2->3"]
    return {
        "median_ms": round(statistics.median(both), 1),
        "p90_ms": round(sorted(both)[int(0.9 * len(both))], 1),
        "max_ms": round(max(both), 1),
        "median_1_to_2_ms": round(statistics.median(results["1->2"]), 1),
        "median_2_to_3_ms": round(statistics.median(results["2->3"]), 1),
        "clicks": len(both),
    }


@contextmanager
def chromium():
    """Debian's Chromium, launched as the tests launch it; None when it is not installed."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if not Path(executable).exists():
        yield None
        return
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=chromium_args())
        try:
            yield browser
        finally:
            browser.close()


def _swap(page, button: str = "Continue") -> float:
    page.evaluate(MEASURE_JS, [button])
    page.get_by_role("button", name=button).click()
    page.wait_for_function("() => window.__clickToFocus !== undefined", timeout=60_000)
    return page.evaluate("window.__clickToFocus")


LOAD_JS = """() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    return {load: nav.loadEventEnd, fcp: paint ? paint.startTime : null,
            bytes: nav.transferSize};
}"""


def throttled(port: int, cookie: str, repeats: int) -> dict:
    """On Fast 3G with the CPU 4 times slower, each time in a fresh context (nothing cached):
    the first load of step 1 (navigation start to the load event, and to the first
    contentful paint), then the step 1 -> 2 swap (click to the focused heading)."""
    base = f"http://127.0.0.1:{port}"
    name, value = cookie.split("=", 1)
    loads, paints, swaps = [], [], []
    with chromium() as browser:
        if browser is None:
            return {"skipped": "no Chromium"}
        for _ in range(repeats):
            context = browser.new_context(base_url=base)
            context.add_cookies([{"name": name, "value": value, "url": base}])
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", FAST_3G)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
            page.goto(STEP_1, wait_until="load", timeout=120_000)
            timing = page.evaluate(LOAD_JS)
            loads.append(timing["load"])
            if timing["fcp"] is not None:
                paints.append(timing["fcp"])
            page.goto(STEP_1_SHOWN, wait_until="load", timeout=120_000)
            page.wait_for_function("() => typeof htmx === 'object'")
            page.get_by_label(re.compile("different device from the one I use")).check()
            swaps.append(_swap(page))
            context.close()
    return {
        "first_load_median_ms": round(statistics.median(loads), 1),
        "first_load_ms": [round(x, 1) for x in loads],
        "first_paint_median_ms": round(statistics.median(paints), 1) if paints else None,
        "swap_median_ms": round(statistics.median(swaps), 1),
        "swap_ms": [round(x, 1) for x in swaps],
        "repeats": repeats,
    }
