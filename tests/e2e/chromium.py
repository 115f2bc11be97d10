"""How the browser tests launch Chromium: Debian's package, never a downloaded one."""

from __future__ import annotations

import os

from wizard.testing.chromium import chromium_args

DEFAULT_CHROMIUM = "/usr/bin/chromium"


def launch_args(defaults: dict) -> dict:
    """pytest-playwright's launch arguments with Debian's Chromium ($CHROMIUM or
    /usr/bin/chromium): Playwright cannot download one here."""
    return {
        **defaults,
        "executable_path": os.environ.get("CHROMIUM") or DEFAULT_CHROMIUM,
        "args": chromium_args(headless=defaults.get("headless") is not False),
    }
