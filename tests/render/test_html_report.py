"""The drift report as a self-contained HTML page, checked as text and in a real headless Chromium.

The browser tests need Debian's chromium and chromium-driver (`apt-get install -y chromium
chromium-driver`) and selenium (the `dev` extra); they are skipped, saying so, only where no
browser is installed.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile.engine.drift import classify
from pacs_reconcile.render_html import drift_html

from .sample_plans import SECRET, every_action_plan, no_change_plan, redactor

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Debian's package first; GitHub's runner images carry Google Chrome and its driver instead."""
CHROMIUM = next(filter(None, map(shutil.which, BROWSERS)), "/usr/bin/chromium")
CHROMEDRIVER = (
    shutil.which("chromedriver")
    or str(Path(os.environ.get("CHROMEWEBDRIVER", "/usr/bin")) / "chromedriver")  # set on GitHub's runners
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def report_page() -> str:
    return drift_html(classify(every_action_plan()), redactor(), "2026-12-04T15:00:00Z")


def test_the_page_fetches_nothing() -> None:
    page = report_page()
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert not re.search(r"\bsrc=", page)
    assert "default-src 'none'" in page  # the browser refuses any fetch, even one added later
    external = set(re.findall(r'https?://[^"\s<]+', page))
    assert external and all(".console.aws.amazon.com/" in url for url in external)  # links, not assets


def test_secrets_are_masked_and_values_escaped() -> None:
    page = report_page()
    assert SECRET not in page and "old-password-value" not in page
    assert "<script>x</script>" not in page
    assert "&lt;/details&gt;&lt;script&gt;x&lt;/script&gt;" in page


def test_every_class_has_its_section_and_console_links() -> None:
    page = report_page()
    for finding in ("drifted", "pending", "missing", "unmanaged", "conflict", "info"):
        assert f'id="class-{finding}"' in page
    assert (
        'href="https://ap-northeast-2.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-2'
        '#logsV2:log-groups/log-group/$252Faws$252Fecs$252Fkeycloak"' in page
    )


# In the browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        pytest.skip(
            f"no headless browser here ({CHROMIUM} and {CHROMEDRIVER} are needed): "
            "apt-get install -y chromium chromium-driver"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (the dev extra) is not installed")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _open(browser: Any, tmp_path: Path, page: str) -> None:
    path = tmp_path / "drift.html"
    path.write_text(page, encoding="utf-8")
    browser.get(path.as_uri())


def _visible_rows(browser: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    rows = browser.find_elements(By.CSS_SELECTOR, "tr.finding")
    return [r.find_element(By.TAG_NAME, "code").text for r in rows if r.is_displayed()]


def test_the_report_renders_in_chromium(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, tmp_path, report_page())
    assert browser.title == "Drift: stack pacs-monitoring (ap-northeast-2)"
    summary = browser.find_element(By.ID, "summary").text
    assert "2 drifted, 1 missing, 2 unmanaged, 1 conflicts; 5 pending" in summary
    assert len(_visible_rows(browser)) == 12
    assert browser.find_element(By.ID, "shown-count").text == "12 of 12 findings shown"
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "section h2")]
    assert headings == [
        "Drifted (2)",
        "Pending (5)",
        "Missing (1)",
        "Unmanaged (2)",
        "Conflict (1)",
        "Info (1)",
    ]
    # the diff unfolds, and the hostile value is shown as text, not run
    details = browser.find_element(By.CSS_SELECTOR, "#class-drifted details")
    details.find_element(By.TAG_NAME, "summary").click()
    assert "no </details><script>x</script> here" in details.find_element(By.TAG_NAME, "pre").text
    # nothing was fetched: the page is the only resource the browser loaded
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_the_filter_narrows_by_text_and_by_class(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, tmp_path, report_page())
    search = browser.find_element(By.ID, "filter-text")
    search.send_keys("log_groups")
    assert _visible_rows(browser) == [
        "log_groups.keycloak",
        "log_groups.backend",
        "log_groups.backend.metric_filters.dicom",
    ]
    assert browser.find_element(By.ID, "shown-count").text == "3 of 12 findings shown"
    assert not browser.find_element(By.ID, "class-drifted").is_displayed()  # no match left in it

    search.clear()
    search.send_keys("threshold")  # an attribute path matches too
    assert _visible_rows(browser) == ["alarms.backend_errors"]

    search.clear()
    search.send_keys(" ")  # a blank filter shows everything again
    assert len(_visible_rows(browser)) == 12
    browser.find_element(By.CSS_SELECTOR, "input.filter-class[value=pending]").click()
    rows = _visible_rows(browser)
    assert len(rows) == 7 and "log_groups.keycloak" not in rows
    assert not browser.find_element(By.ID, "class-pending").is_displayed()

    search.send_keys("no-such-resource")
    assert _visible_rows(browser) == []
    assert browser.find_element(By.ID, "no-match").is_displayed()


def test_the_console_link_opens_the_resource_page(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, tmp_path, report_page())
    row = browser.find_element(By.CSS_SELECTOR, "#class-drifted tr.finding")
    link = row.find_element(By.LINK_TEXT, "open in the console")
    assert link.get_attribute("href") == (
        "https://ap-northeast-2.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-2"
        "#alarmsV2:alarm/pacs-backend-error-rate"
    )
    assert link.get_attribute("rel") == "noopener noreferrer"


def test_a_clean_report_says_so(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, tmp_path, drift_html(classify(no_change_plan()), redactor()))
    assert browser.find_element(By.ID, "summary").text.startswith("No drift")
    assert _visible_rows(browser) == ["sns_topics.oncall.subscriptions.email"]  # the info item
