"""Launch the Chromium named by --chromium or $CHROMIUM when Playwright's own is not installed
(registered by the plugin after pytest-playwright, whose launch settings it extends)."""

from __future__ import annotations

import os
import shutil

import pytest

# As the wizard's own browser tests launch Debian's Chromium: without the networking flags
# it keeps trying to reach Google's services, which a closed network refuses.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_args(headless: bool = True) -> list[str]:
    """The flags for Debian's Chromium; the plugin, the wizard's own tests and its bench share
    them."""
    return [arg for arg in CHROMIUM_ARGS if headless or arg != "--headless"]


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict, pytestconfig: pytest.Config, browser_name, playwright
) -> dict:
    launch = dict(browser_type_launch_args)
    if browser_name != "chromium" or "executable_path" in launch or launch.get("channel"):
        return launch
    path = pytestconfig.getoption("chromium") or os.environ.get("CHROMIUM")
    if not path and not os.path.exists(playwright.chromium.executable_path):
        path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        return launch  # Playwright's own, or its own message on how to install it
    extra = chromium_args(headless=launch.get("headless") is not False)
    return {**launch, "executable_path": path, "args": [*launch.get("args", []), *extra]}
