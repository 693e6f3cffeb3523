"""Headless Chromium for browser tests: Debian's `chromium`, driven by Selenium through Debian's
`chromedriver`, named explicitly (otherwise Selenium Manager would try to download a driver).

`make browser` installs both where they are missing; where they cannot be installed, the tests that ask
for a browser are skipped, saying so. Chromium's own calls home (updates, sync, safe browsing) are
switched off: the tests reach nothing beyond loopback.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE = Path(__file__).resolve().parent / "axe" / "axe.min.js"  # axe-core 4.x from npm, see axe/README.md
QUIET = (
    "--headless=new",
    "--no-sandbox",  # root in CI: Chromium refuses its sandbox there
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--password-store=basic",
)


@contextmanager
def chromium(language: str = "en-US", width: int = 1000, height: int = 1400) -> Iterator[Any]:
    """A headless Chromium whose preferred language is `language`; its console log is kept."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.skip(
            f"no browser: {', '.join(missing)} missing (`make browser` installs Debian's chromium and "
            "chromium-driver where apt-get runs as root)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (*QUIET, f"--lang={language}", f"--window-size={width},{height}"):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "intl.accept_languages": language,
            "credentials_enable_service": False,
            "profile.password_manager_enabled": False,
        },
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def console_errors(driver: Any) -> list[str]:
    """The console's errors since the last call (the log is drained by reading it)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def serious_accessibility_violations(driver: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA, best
    practices), one line each: rule, impact and the elements."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    results = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(done, (error) => done({error: String(error)}));"
    )
    assert "error" not in results, results
    return [
        f"{violation['id']} ({violation['impact']}): "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in results["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def other_origins(driver: Any, origin: str) -> list[str]:
    """Every resource the page loaded from anywhere but `origin`."""
    names: list[str] = driver.execute_script(
        "return [location.href, ...performance.getEntriesByType('resource').map((entry) => entry.name)];"
    )
    return [name for name in names if not name.startswith(origin + "/")]
