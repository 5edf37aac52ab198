"""The browser harness: Debian's Chromium driven by Playwright against ``live_server``.

A failing test leaves a screenshot of the page it was on in ``test-artifacts/``.
"""

import os
import shutil
from pathlib import Path

import pytest

from conftest import require_service

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    require_service(
        "Chromium", shutil.which(CHROMIUM) is not None, f"apt-get install -y chromium (looked for {CHROMIUM})"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        page = item.funcargs.get("page")
        if page is not None:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"FAILED-{item.name}.png"), full_page=True)


@pytest.fixture
def browser_context_args():
    return {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def page(chromium, live_server, browser_context_args):
    context = chromium.new_context(base_url=live_server.url, **browser_context_args)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name):
    """Keep a picture of a main page for the README and for people reviewing a change."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, email, password):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def assert_accessible(page, name=None):
    """axe-core on the current page: no serious or critical WCAG 2.1 A/AA violations."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}},
    )
    serious = [v for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
    if serious:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"A11Y-{name or 'page'}.png"), full_page=True)
    details = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}" for v in serious
    ]
    assert not serious, f"accessibility violations on {page.url}:\n" + "\n".join(details)
