"""The browser harness: Debian's Chromium driven by Playwright against ``live_server``.

A failing test leaves a screenshot of the page it was on in ``test-artifacts/``.
"""

import os
import shutil
from pathlib import Path

import pytest

from conftest import IN_CI, require_service

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Debian's headless shell (chromium-headless-shell: the same Blink and V8 as /usr/bin/chromium,
# without the full browser's window machinery; what Playwright itself runs headless) when it is
# installed: the journeys' Chromium CPU halves with it (measured on journeys 2 and 3: 52 s of
# Chromium CPU with /usr/bin/chromium, 27 s with the shell; the suite is CPU-bound).
HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or (
    HEADLESS_SHELL if os.path.exists(HEADLESS_SHELL) else "/usr/bin/chromium"
)
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


# Every refusal of the Content-Security-Policy (an inline style or script the page tried to
# use) in the current test; the test fails if there is any (``_no_policy_refusals``).
POLICY_REFUSALS = []


def _note_policy_refusal(message):
    if message.type == "error" and "Content Security Policy" in message.text:
        POLICY_REFUSALS.append(f"{message.location.get('url', '?')}: {message.text[:240]}")


class _Chromium:
    """The browser, each of whose contexts reports the policy's refusals to ``POLICY_REFUSALS``."""

    def __init__(self, browser):
        self._browser = browser

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def new_context(self, **kwargs):
        context = self._browser.new_context(**kwargs)
        context.on("console", _note_policy_refusal)
        return context


@pytest.fixture(scope="session")
def chromium():
    require_service(
        "Chromium",
        shutil.which(CHROMIUM) is not None,
        f"apt-get install -y chromium-headless-shell (looked for {CHROMIUM})",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield _Chromium(browser)
        browser.close()


@pytest.fixture(autouse=True)
def _no_policy_refusals():
    """No page of a journey may have an inline style or script refused by the policy."""
    POLICY_REFUSALS.clear()
    yield
    refusals, POLICY_REFUSALS[:] = list(POLICY_REFUSALS), []
    assert not refusals, "the Content-Security-Policy refused:\n" + "\n".join(refusals)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test leaves a picture of every page it had open: ``FAILED-<test>[-<who>].png``."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        pages = [("", item.funcargs.get("page")), *getattr(item, "_browser_pages", [])]
        for label, page in pages:
            if page is None or page.is_closed():
                continue
            ARTIFACTS.mkdir(exist_ok=True)
            path = ARTIFACTS / f"FAILED-{item.name}{'-' + label if label else ''}.png"
            try:
                page.screenshot(path=str(path), full_page=True)
            except Exception as exc:  # noqa: BLE001 - a broken page must not hide the real failure
                report.sections.append(("screenshot", f"no screenshot of {label or 'page'}: {exc}"))
            else:
                report.sections.append(("screenshot", f"{label or 'page'} at {page.url}: {path}"))


@pytest.fixture(scope="session")
def browser_media_root(tmp_path_factory):
    """One media folder for the session, shared with the notification worker (which attaches
    letters' PDFs stored there to the mail)."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, browser_media_root):
    """Files uploaded in a journey go to the session's own folder, not the project's ``var/``."""
    settings.MEDIA_ROOT = browser_media_root


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


# Pictures of the main pages, for people reviewing a change and for docs_screenshots.sh: kept,
# but not under CI, whose artifacts nobody reads unless a test fails (and a failing test leaves its
# own pictures, above). A full-page picture costs the browser about 0.2 s of CPU: the 89 of a run,
# about 18 s of a CPU-bound suite. TEST_PICTURES=1 keeps them under CI too; 0 skips them anywhere.
PICTURES = os.environ.get("TEST_PICTURES", "0" if IN_CI else "1").lower() in {"1", "true", "yes"}


def screenshot(page, name):
    """Keep a picture of a main page for the README and for people reviewing a change
    (``test-artifacts/<name>.png``; see ``PICTURES``)."""
    if not PICTURES:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, email, password):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    pass_second_factor(page, email)


@pytest.fixture(autouse=True)
def _second_factor_on(settings):
    """The journeys run with the second factor required (issue 13), as production does."""
    settings.PORTAL_REQUIRE_MFA = True


def pass_second_factor(page, email):
    """After the password: set up an authenticator (first sign-in: the key is read off the page,
    as a phone's app would scan it, and the recovery codes are acknowledged) or enter the code the
    person's authenticator shows now. Does nothing when no second factor is asked for."""
    import base64
    from urllib.parse import urlsplit

    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:  # the password was sent (by a click or the Enter key): wait until the browser left the form
        page.wait_for_url(lambda url: urlsplit(url).path != "/accounts/login/", timeout=5_000)
    except PlaywrightTimeout:
        return  # refused: the sign-in form is shown again
    page.wait_for_load_state()
    path = urlsplit(page.url).path
    if path == "/accounts/second-factor/set-up/":
        secret = page.locator("#totp-secret").get_attribute("data-secret")
        page.get_by_label("Code").fill(f"{totp(base64.b32decode(secret)):06d}")
        with page.expect_navigation():
            page.get_by_role("button", name="Turn on the second factor").click()
        with page.expect_navigation():
            page.get_by_role("link", name="I have saved them — continue").click()
        page.wait_for_load_state()
    elif path == "/accounts/second-factor/":
        device = TOTPDevice.objects.get(user__email=email.lower(), confirmed=True)
        page.get_by_label("Code").fill(_unused_code(device))
        with page.expect_navigation():  # (a later goto must not cut the sign-in short)
            page.get_by_role("button", name="Verify").click()
        page.wait_for_load_state()
        assert urlsplit(page.url).path != "/accounts/second-factor/", "the code was refused"


def accessibility_violations(page, name=None):
    """axe-core on the current page: its serious and critical WCAG 2.1 A/AA violations, described
    (with a screenshot ``A11Y-<name>.png`` when there are any)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    if not page.evaluate("typeof window.axe !== 'undefined'"):  # (once per document: 0.5 MB of script)
        page.evaluate(axe.axe_script)
    # every WCAG 2.1 A/AA rule runs; only the violations come back with their nodes (the passes'
    # nodes, which nothing reads, were most of what crossed from the browser)
    options = {
        "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"],
    }
    response = page.evaluate("options => axe.run(document, options)", options)
    serious = [v for v in response["violations"] if v["impact"] in {"serious", "critical"}]
    if serious:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"A11Y-{name or 'page'}.png"), full_page=True)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        + "".join(
            f"\n    {n['target']}: {n['html'][:160]}\n      {n['failureSummary']}" for n in v["nodes"][:3]
        )
        for v in serious
    ]


def assert_accessible(page, name=None):
    """axe-core on the current page: no serious or critical WCAG 2.1 A/AA violations."""
    details = accessibility_violations(page, name)
    assert not details, f"accessibility violations on {page.url}:\n" + "\n".join(details)


# --- people in their own browsers ------------------------------------------------------------


@pytest.fixture
def open_page(request, chromium, live_server, browser_context_args):
    """``open_page("officer")``: a new page in a browser context of its own (its own cookies),
    for each person of a journey. A failing test leaves a screenshot of every one of them."""
    contexts = []
    request.node._browser_pages = []

    def open_page(label):
        context = chromium.new_context(base_url=live_server.url, **browser_context_args)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        request.node._browser_pages.append((label, page))
        return page

    yield open_page
    for context in contexts:
        context.close()


# --- mail: a local SMTP server, and a real Celery worker when PostgreSQL and Redis are there ---

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def real_stack_available():
    """PostgreSQL under the tests and a Redis to queue on: then mail goes through a real worker."""
    from django.conf import settings

    from conftest import port_open

    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    return on_postgres and port_open(TEST_REDIS_URL, 6379)


@pytest.fixture(scope="session")
def smtp_server():
    from tests.browser.mail import Mailbox

    try:
        import aiosmtpd  # noqa: F401
    except ImportError:  # pragma: no cover - aiosmtpd is in requirements-dev.txt
        require_service("aiosmtpd", False, "pip install -r requirements-dev.txt")
    mailbox = Mailbox().start()
    yield mailbox
    mailbox.stop()


@pytest.fixture(scope="session")
def notification_worker(
    django_db_setup, django_db_blocker, live_server, smtp_server, tmp_path_factory, browser_media_root
):
    """One ``celery worker --pool=solo`` for the session, on the test database and Redis, sending
    through ``smtp_server``. It consumes a queue of its own, so that nothing else is disturbed."""
    import subprocess
    import sys
    import time
    import uuid

    from conftest import WorkerProcess, database_url_for_subprocess

    tmp = tmp_path_factory.mktemp("worker")
    queue = f"browser-{uuid.uuid4().hex[:12]}"
    log_path = tmp / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": TEST_REDIS_URL,
        "CELERY_BROKER_URL": TEST_REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}",
        "PORTAL_BASE_URL": live_server.url,
        "PORTAL_VAR_DIR": str(tmp / "var"),
        "PORTAL_MEDIA_ROOT": str(browser_media_root),
        "NOTIFICATIONS_RETRY_BACKOFF_BASE": "0.5",
        "NOTIFICATIONS_RETRY_BACKOFF_MAX": "2",
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                *("-m", "celery", "-A", "portal", "worker", "--pool=solo", "-Q", queue),
                *("--loglevel=INFO", "--without-mingle", "--without-gossip", "--without-heartbeat"),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = WorkerProcess(broker_url=TEST_REDIS_URL, queue=queue, process=process, log_path=log_path)
    deadline = time.monotonic() + 60
    while "ready." not in worker.log():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the Celery worker did not start:\n{worker.log()}")
        time.sleep(0.2)
    yield worker
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def mailbox(request, settings, live_server, smtp_server):
    """Mail as the people of a journey receive it, from a local SMTP server.

    With PostgreSQL and Redis (``DATABASE_URL``, ``TEST_REDIS_URL``) notifications go the way they
    go in production: the outbox row commits, the task is queued on Redis after the commit, and a
    real Celery worker sends it over SMTP. Without them the tasks run in-process after the commit
    and still send over SMTP to the same server; ``mailbox.mode`` says which. Under CI=true a
    missing PostgreSQL or Redis fails the test instead.
    """
    from portal.notifications.tests.faults import publishing_to

    settings.PORTAL_BASE_URL = live_server.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    smtp_server.clear()
    if real_stack_available():
        worker = request.getfixturevalue("notification_worker")
        smtp_server.mode = "celery worker on Redis"
        with publishing_to(worker.broker_url, worker.queue):
            yield smtp_server
        return
    # Under CI=true this fails: CI must send through the real worker.
    require_service(
        "PostgreSQL and Redis for the journeys' Celery worker",
        not IN_CI,
        f"set DATABASE_URL=postgres://… and TEST_REDIS_URL (tried {TEST_REDIS_URL})",
    )
    smtp_server.mode = "in-process"
    yield smtp_server


def _unused_code(device):
    """A code the device has not accepted yet; a journey that signs the same person in more than
    twice in a half-minute waits for the next time step, as a person would."""
    import time

    from portal.accounts import mfa
    from portal.errors import PortalError

    for _ in range(3):
        device.refresh_from_db()  # (its last accepted step may have moved while this waited)
        try:
            return mfa.current_code(device)
        except PortalError:
            time.sleep(device.step - (int(time.time()) - device.t0) % device.step + 0.5)
    return mfa.current_code(device)
