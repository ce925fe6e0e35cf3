"""A headless Chromium driven by selenium, for the pages flowgrad writes (the explain page).

``chromium_driver()`` skips the calling test where selenium, Chromium or ChromeDriver is missing
(CI installs Debian's ``chromium`` and ``chromium-driver``; see .ci/run).
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest


def chromium_driver() -> Any:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_path = shutil.which("chromedriver")
    if not browser or not driver_path:
        pytest.skip("no Chromium and ChromeDriver on this machine (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    options.binary_location = browser
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


def console_errors(driver: Any) -> list[str]:
    """The page's console messages at level SEVERE (uncaught exceptions, console.error)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
