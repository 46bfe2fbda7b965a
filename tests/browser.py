"""Browser tests: the app served on a real port, driven by Playwright in Debian's chromium."""

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from mediation.extensions import db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"


def chromium_env() -> dict[str, str]:
    """The environment chromium starts with, without libfaketime.

    CI also runs the suite under ``faketime`` (the clock a year ahead). Chromium with
    libfaketime preloaded never loads a page, or its zygote cannot fork, even when
    FAKETIME_SKIP_CMDS or FAKETIME_ONLY_CMDS spare it. The pages read no clock in the
    browser, so chromium keeps the real one while the server (this process) is moved.
    """
    return {key: value for key, value in os.environ.items()
            if key != "LD_PRELOAD" and not key.startswith("FAKETIME")}


def browser_available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return os.path.exists(CHROMIUM)


def require_browser():
    """Skip without a browser, unless CI says browser tests must run."""
    if browser_available():
        return
    if os.environ.get("MEDIATION_REQUIRE_BROWSER") == "1":
        pytest.fail("browser tests required but chromium or playwright is missing")
    pytest.skip("Debian's chromium or playwright is not installed")


def closing_body(app):
    """The app, its response body read and closed before the test server sends it.

    Werkzeug's development server closes the body in a ``finally`` that first drains
    the socket; when the browser has reset the connection (a page navigating away while
    the favicon is sent), that read raises and the static file stays open. The unclosed
    file then fails whichever test the garbage collector happens to run in. Gunicorn,
    as deployed, is not involved.
    """
    def wrapped(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wrapped


class LiveServer:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, closing_body(app), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app):
    """The test's app on a free local port; the test must commit before browsing."""
    require_browser()
    db.session.commit()
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def _chromium():
    """One Playwright driver and one chromium per session (per xdist worker): starting
    them took seconds for every browser test. Each test gets contexts of its own
    (``browser``), closed when it ends, so no cookie, storage or page outlives a test."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launch = {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "env": chromium_env()}
        holder = {"instance": p.chromium.launch(**launch)}

        def instance():
            if not holder["instance"].is_connected():  # crashed in an earlier test
                holder["instance"] = p.chromium.launch(**launch)
            return holder["instance"]

        yield instance
        if holder["instance"].is_connected():
            holder["instance"].close()


@pytest.fixture
def browser(_chromium):
    require_browser()
    checked = CspCheckedBrowser(_chromium())
    yield checked
    checked.close_contexts()
    # Every page the test opened ran under the Content-Security-Policy without a
    # violation (an inline script or style would show up here).
    assert checked.violations == [], "\n".join(checked.violations)


class CspCheckedBrowser:
    """The Playwright browser, whose pages report Content-Security-Policy violations, and
    which closes at the end of a test the contexts (and pages) the test opened."""

    def __init__(self, browser):
        self._browser = browser
        self._contexts = []
        self.violations: list[str] = []

    def _watch(self, page):
        def on_console(message):
            if "Content Security Policy" in message.text:
                self.violations.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        return page

    def new_page(self, *args, **kwargs):
        page = self._watch(self._browser.new_page(*args, **kwargs))
        self._contexts.append(page.context)
        return page

    def new_context(self, *args, **kwargs):
        context = self._browser.new_context(*args, **kwargs)
        context.on("page", self._watch)
        self._contexts.append(context)
        return context

    def close_contexts(self):
        """Close what the test opened, as closing its own chromium did; the console
        messages of its pages are delivered before the close returns."""
        for context in self._contexts:
            context.close()
        self._contexts.clear()

    def __getattr__(self, name):
        return getattr(self._browser, name)


class Screenshots:
    """Numbered screenshots of each step, under test-output/<test name>/."""

    def __init__(self, name: str):
        self.folder = OUTPUT / re.sub(r"[^\w.-]+", "_", name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.count = 0

    def take(self, page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def log_in(page, base: str, user, password: str | None = None, locale: str | None = None):
    """Log the browser ``page`` in as ``user`` (a User or an email) through the login form, in
    ``locale`` if given (the language buttons of the login page), with the factory's password
    unless another is given. The page's cookies are cleared first: whoever was in is out."""
    from tests.conftest import PASSWORD  # (conftest imports this module)

    email = getattr(user, "email", user)
    # End this thread's transaction (after reading the email, which would start another):
    # on SQLite it would hold the write lock the login needs.
    db.session.commit()
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    if locale:
        page.click(f"header button[name=locale][value={locale}]")
    page.fill("#email", email)
    page.fill("#password", password or PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{email} could not log in: {page.content()[:2000]}"


@pytest.fixture
def screenshots(request):
    return Screenshots(request.node.name)
