"""The settings page and the API reference in a real browser (headless Chromium), against `make run`:
autodiscovery, a passing and a failing check against the demo SMTP server with live stages, a double
click that makes one check, Italian, axe-core, the console, and nothing from another origin.

`SCREENSHOTS_UPDATE=1` (`make screenshots`) also retakes docs/page-passed.png and docs/page-failed.png;
a plain run writes nothing.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from smtp_preflight.wording.i18n import catalogue
from tests.support.browser import chromium, console_errors, other_origins, serious_accessibility_violations
from tests.support.local_server import ROOT, LocalRun, local_server

DEMO_USERNAME, DEMO_PASSWORD = "demo@example.com", "demo-password"  # fixtures/demo_smtp.py
EMAIL = "office.manager@gmail.com"
WAIT_SECONDS = 15
SCREENSHOTS = ROOT / "docs"

# make run and Chromium start in the first test (about 10 s on a quiet machine, more on a busy one)
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def run() -> Iterator[LocalRun]:
    # the demo server thinks 400 ms before answering EHLO, MAIL, RCPT and DATA: a check with a test message
    # then takes 2 s, long enough for the page's polls (every Retry-After: 1 s) to see its stages run
    with local_server({"DEMO_SMTP_DELAY_MS": "400"}) as local_run:
        yield local_run


@pytest.fixture(scope="module")
def browser(run: LocalRun) -> Iterator[Any]:
    with chromium("en-US") as driver:
        yield driver


def wait(driver: Any, condition: Any, message: str) -> Any:
    # the page replaces what it shows (stages, findings): an element read while it is swapped is asked again
    patient = WebDriverWait(
        driver, WAIT_SECONDS, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,)
    )
    return patient.until(lambda _driver: condition(), message=message)


def field(driver: Any, name: str) -> Any:
    return driver.find_element(By.CSS_SELECTOR, f"form [name={name}]")


def css(driver: Any, selector: str) -> list[Any]:
    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def type_into(driver: Any, name: str, value: str) -> None:
    element = field(driver, name)
    element.clear()
    element.send_keys(value)


def checks_of(run: LocalRun, settings_id: str) -> list[dict[str, Any]]:
    url = f"{run.api}/v1/smtp-checks?settingsId={settings_id}&view=summary&limit=100"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        items: list[dict[str, Any]] = json.loads(response.read())["items"]
    return items


def verdict(driver: Any) -> str:
    return str(css(driver, "#verdict")[0].get_attribute("class"))


def screenshot(driver: Any, name: str) -> None:
    if not os.environ.get("SCREENSHOTS_UPDATE"):
        return
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(900, height + 140)
    try:
        Path(SCREENSHOTS / name).write_bytes(driver.get_screenshot_as_png())
    finally:
        driver.set_window_size(1000, 1400)


def test_an_office_manager_gets_working_settings(run: LocalRun, browser: Any) -> None:
    browser.get(f"{run.api}/")
    wait(browser, lambda: browser.execute_script("return document.documentElement.dataset.ready"), "no page")
    assert browser.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "en"

    settings_id = autodiscovery_fills_in_gmail(browser)
    the_demo_settings_pass_with_live_stages(run, browser)
    a_wrong_password_blames_the_password_field(browser)
    a_double_click_makes_one_check(run, browser, settings_id)
    italian_rewords_the_page_and_the_findings(browser)
    no_serious_accessibility_violation_wide_or_at_375_px(browser)

    assert console_errors(browser) == []
    assert other_origins(browser, run.api) == []
    urls = " ".join(browser.execute_script("return performance.getEntries().map((entry) => entry.name)"))
    assert "password" not in urls, "the password never travels in a URL"
    assert browser.get_cookies() == []


def autodiscovery_fills_in_gmail(browser: Any) -> str:
    type_into(browser, "email", EMAIL)
    field(browser, "email").send_keys(Keys.TAB)
    wait(browser, lambda: field(browser, "host").get_attribute("value") == "smtp.gmail.com", "no suggestion")
    assert field(browser, "port").get_attribute("value") == "587"
    assert field(browser, "security").get_attribute("value") == "starttls"
    assert "Google" in css(browser, "#discovery")[0].text, "it says why"
    settings_id = str(field(browser, "settingsId").get_attribute("value"))
    assert settings_id
    return settings_id


def the_demo_settings_pass_with_live_stages(run: LocalRun, browser: Any) -> None:
    type_into(browser, "host", "localhost")
    type_into(browser, "port", str(run.smtp_port))
    type_into(browser, "username", DEMO_USERNAME)
    type_into(browser, "password", DEMO_PASSWORD)
    type_into(browser, "testRecipient", DEMO_USERNAME)
    field(browser, "password").send_keys(Keys.ENTER)  # the keyboard submits the form

    wait(browser, lambda: css(browser, "#stages li.running"), "no live stage shown while the check ran")
    wait(browser, lambda: "passed" in verdict(browser), "the demo settings did not pass")
    stages = [item.get_attribute("data-stage") for item in css(browser, "#stages li.ok")]
    assert {"resolve", "connect", "tls", "auth", "data"} <= set(stages)
    assert all(item.text.endswith(" ms") for item in css(browser, "#stages li"))
    assert field(browser, "password").get_attribute("value") == "", "the password is cleared"
    assert css(browser, "#verdict[role=status][aria-live=polite]")
    assert css(browser, "[data-code=LOGIN_ACCEPTED]")
    assert browser.execute_script("return localStorage.length + sessionStorage.length") == 0
    wait(browser, lambda: len(css(browser, "#history-list li")) == 1, "no history")
    screenshot(browser, "page-passed.png")
    field(browser, "testRecipient").clear()  # the next checks stop after the login: quicker


def a_wrong_password_blames_the_password_field(browser: Any) -> None:
    type_into(browser, "password", "not-the-password")
    browser.find_element(By.ID, "check").click()

    wait(browser, lambda: "failed" in verdict(browser), "the wrong password did not fail")
    finding = css(browser, "#findings [data-code=AUTH_FAILED]")
    assert finding, [item.get_attribute("data-code") for item in css(browser, "#findings li")]
    assert field(browser, "password").get_attribute("aria-invalid") == "true"
    assert field(browser, "host").get_attribute("aria-invalid") is None
    assert catalogue("en")["page.actor.user"] in finding[0].text, "it says who must act"
    assert field(browser, "password").get_attribute("value") == ""
    wait(browser, lambda: len(css(browser, "#history-list li")) == 2, "the history did not grow")
    screenshot(browser, "page-failed.png")


def a_double_click_makes_one_check(run: LocalRun, browser: Any, settings_id: str) -> None:
    before = len(checks_of(run, settings_id))
    type_into(browser, "password", DEMO_PASSWORD)

    ActionChains(browser).double_click(browser.find_element(By.ID, "check")).perform()

    wait(browser, lambda: "passed" in verdict(browser), "the double-clicked check did not pass")
    wait(browser, lambda: len(css(browser, "#history-list li")) == 3, "the history did not grow")
    assert len(checks_of(run, settings_id)) == before + 1


def italian_rewords_the_page_and_the_findings(browser: Any) -> None:
    english_finding = css(browser, "#findings li")[0].text
    italian = catalogue("it")

    Select(browser.find_element(By.CSS_SELECTOR, "select[name=lang]")).select_by_value("it")

    wait(browser, lambda: browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "it", "no it")
    assert browser.find_element(By.TAG_NAME, "h1").text == italian["page.title"]
    assert browser.find_element(By.ID, "check").text == italian["page.check"]
    assert browser.find_element(By.CSS_SELECTOR, "label[for=password]").text == italian["page.password"]
    wait(browser, lambda: css(browser, "#findings li")[0].text != english_finding, "findings not re-worded")
    assert css(browser, "#findings [data-code=LOGIN_ACCEPTED]")


def no_serious_accessibility_violation_wide_or_at_375_px(browser: Any) -> None:
    assert serious_accessibility_violations(browser) == []
    phone = {"width": 375, "height": 800, "deviceScaleFactor": 1, "mobile": True}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", phone)
    try:
        widths = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1] == 375, f"horizontal scrolling at 375 px: {widths}"
        assert serious_accessibility_violations(browser) == []
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_every_control_is_reachable_by_keyboard_with_a_visible_focus(run: LocalRun, browser: Any) -> None:
    browser.get(f"{run.api}/")
    wait(browser, lambda: browser.execute_script("return document.documentElement.dataset.ready"), "no page")
    browser.find_element(By.CSS_SELECTOR, "select[name=lang]").click()
    visited: dict[str, str] = {}
    for _ in range(30):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        focused = browser.switch_to.active_element
        name = focused.get_attribute("name") or focused.get_attribute("id") or focused.tag_name
        visited[name] = focused.value_of_css_property("outline-style")
        if name == "check":
            break

    expected = {"email", "discover", "host", "port", "security", "authMethod", "username", "password"}
    assert expected | {"fromAddress", "testRecipient", "summary", "check"} <= set(visited)
    assert [name for name, outline in visited.items() if outline == "none"] == [], "focus not visible"
    assert console_errors(browser) == []


def test_the_reference_shows_the_api_document(run: LocalRun, browser: Any) -> None:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))

    browser.get(f"{run.api}/docs")
    wait(browser, lambda: len(css(browser, ".opblock")) >= 8, "Swagger UI showed no operations")

    shown = {item.text for item in css(browser, ".opblock-summary-path")}
    assert shown == set(document["paths"])
    assert document["info"]["title"] in browser.find_element("css selector", ".info .title").text
    assert console_errors(browser) == []
    assert other_origins(browser, run.api) == []
