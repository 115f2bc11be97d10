"""How the browser tests launch Chromium: Debian's package, never a downloaded one."""

from __future__ import annotations

import os

DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium keeps trying to reach Google's services, which this
# closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_args(defaults: dict) -> dict:
    """pytest-playwright's launch arguments with Debian's Chromium ($CHROMIUM or
    /usr/bin/chromium): Playwright cannot download one here."""
    headed = defaults.get("headless") is False
    return {
        **defaults,
        "executable_path": os.environ.get("CHROMIUM") or DEFAULT_CHROMIUM,
        "args": [arg for arg in CHROMIUM_ARGS if not (headed and arg == "--headless")],
    }
