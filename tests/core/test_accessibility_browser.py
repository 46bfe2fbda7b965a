"""Accessibility (WCAG 2.1 AA): axe-core on every page each role reaches, in Italian and English.

The demo data is loaded, then for each role one demo user logs in in chromium and
the test follows the links of the pages it sees, from the home page, opening the
first URL of every endpoint it meets (list filters and pages of the same endpoint
are not opened twice). On every page axe-core 4.14.1 (vendored from the npm
registry under tests/vendor, evaluated through the DevTools protocol so that the
page's Content-Security-Policy stays strict) must find no serious or critical
violation of the WCAG 2.0/2.1 A and AA rules. Forms are also sent empty once, so
that pages showing validation errors are checked too. Every ``<details>`` is opened before axe runs,
so that what a page folds away (the mediators who cannot take a request, a score's
factors) is checked whatever the demo's data happens to show open on the day; a test
of its own builds the offer page with mediators who cannot take the request.

Accessibility does not depend on the database: the test runs on SQLite only.
"""

import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import HTTPException

from mediation import create_app
from mediation.demo import load_demo
from mediation.extensions import db
from mediation.models import (
    Absence,
    Assignment,
    AssignmentState,
    MediatorProfile,
    Role,
    User,
)

from tests.browser import log_in, require_browser
from tests.conftest import PASSWORD as FACTORY_PASSWORD
from tests.conftest import backend, make_test_config
from tests.scenarios.booking import rome
from tests.scenarios.coordination import make_world, next_week, running

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(backend() != "sqlite", reason="templates are the same on every database"),
]

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core-4.14.1" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "demo-a11y"
#: Endpoints that are not pages: downloads, calendar feeds, the letter printed on paper
#: is a page and is kept.
NOT_PAGES = {"auth.logout", "reporting.export", "reporting.timesheet_xlsx",
             "reporting.statement_xlsx", "reporting.period_file", "reporting.period_pack",
             "requests.document", "feeds.feed", "static"}
#: Pages a role opens, at most.
BUDGET = 60
#: Endpoints opened more than once (with other ids), because what the page shows depends
#: on the object's state: a request's page offers the letter, the cancellation, the log...
REPEAT = {"requests.detail": 6, "agenda.index": 1}
#: Forms sent empty, to check the page that shows the errors (endpoint: form selector).
EMPTY_FORMS = {
    "auth.account": "main form[method=post]",
    "mediators.absences": "main form[method=post]",
    "requests.new": "main form[method=post]",
    "agenda.decline": "main form[method=post]",
    "agenda.log": "main form[method=post]",
    "reporting.periods_page": "main form[method=post]",
}


def run_axe(page) -> list[str]:
    """The serious and critical violations on the page, one line each, with every
    ``<details>`` opened first (axe skips what is hidden)."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                               resultTypes: ['violations']});
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' -> '
                     + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }""",
        AXE_TAGS,
    )
    return result


def endpoint_of(app, path: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(urlsplit(path).path, method="GET")
    except HTTPException:
        return None
    return endpoint


def crawl(app, page, base: str) -> tuple[dict[str, list[str]], Counter]:
    """Open every endpoint reachable by links from the home page; axe each page."""
    found, seen, queue, opened, visited = {}, Counter(), ["/"], 0, set()
    while queue and opened < BUDGET:
        path = queue.pop(0)
        endpoint = endpoint_of(app, path)
        if (endpoint is None or endpoint in NOT_PAGES or path in visited
                or seen[endpoint] >= REPEAT.get(endpoint, 1)):
            continue
        seen[endpoint] += 1
        visited.add(path)
        response = page.goto(base + path)
        opened += 1
        assert response is not None and response.status == 200, (path, response and response.status)
        assert "text/html" in response.headers.get("content-type", ""), path
        problems = run_axe(page)
        if problems:
            found[path] = problems
        if endpoint in EMPTY_FORMS and page.locator(EMPTY_FORMS[endpoint]).count():
            form = page.locator(EMPTY_FORMS[endpoint]).first
            # Clear what the form proposes, then send it: the page comes back with errors.
            for field in form.locator("input[type=text], input[type=date], input[type=time], "
                                      "input[type=email], input[type=number], textarea").all():
                if field.is_visible() and field.is_editable():
                    field.fill("")
            button = form.locator("button[type=submit], input[type=submit]").first
            if button.count() and button.is_visible():
                button.click()
                page.wait_for_load_state()
                problems = run_axe(page)
                if problems:
                    found[path + " (sent empty)"] = problems
                page.goto(base + path)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            url = urlsplit(urljoin(base + path, href))
            if f"{url.scheme}://{url.netloc}" != base:
                continue
            queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return found, seen


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """The demo data built once (per xdist worker): a SQLite file and its uploads, which
    each test copies (building it takes seconds; copying it, milliseconds)."""
    require_browser()
    folder = tmp_path_factory.mktemp("demo")
    template = create_app(make_test_config(folder))
    with template.app_context():
        db.create_all()
        load_demo(password=PASSWORD)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # the last connection checkpoints the WAL into the file
    return folder


@pytest.fixture
def app_config(request, tmp_path):
    """The database and uploads of a test that asks for the demo start as copies of the
    demo's."""
    if "demo" in request.fixturenames:
        template = request.getfixturevalue("demo_template")
        shutil.copyfile(template / "test.sqlite", tmp_path / "test.sqlite")
        shutil.copytree(template / "uploads", tmp_path / "uploads")
    return make_test_config(tmp_path)


@pytest.fixture
def demo(app):
    require_browser()
    load_demo(password=PASSWORD)  # already there: only the logins are read
    db.session.commit()
    users = {}
    for role in Role:
        query = sa.select(User).where(User.role == role, User.active).order_by(User.id)
        if role == Role.mediator:  # one with an offer to answer: the decline form is a page
            query = (query.join(MediatorProfile, MediatorProfile.user_id == User.id)
                     .join(Assignment, Assignment.mediator_id == MediatorProfile.id)
                     .where(Assignment.state == AssignmentState.offered))
        users[role] = db.session.scalars(query).first()
    return users


@pytest.mark.parametrize("locale", ["it", "en"])
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_no_serious_violation_on_any_page(app, demo, live_server, browser, role, locale):
    """Every page the role reaches, and its forms sent empty: no serious or critical issue."""
    user = demo[role]
    assert user is not None, f"the demo has no {role.value}"
    user.locale = locale
    email = user.email
    # Committed, and nothing read after it: on SQLite an open transaction here would hold
    # the write lock the server needs.
    db.session.commit()
    context = browser.new_context(locale=locale)
    page = context.new_page()
    log_in(page, live_server.url, email, PASSWORD)
    assert page.evaluate("() => document.documentElement.lang") == locale
    found, seen = crawl(app, page, live_server.url)
    context.close()
    print(f"{role.value}/{locale}: {len(seen)} endpoints: {sorted(seen)}")
    assert "core.home" in seen and len(seen) >= 3, seen  # the crawl really went somewhere
    report = "\n".join(f"{path}\n  " + "\n  ".join(problems) for path, problems in found.items())
    assert not found, f"{len(found)} pages with serious or critical violations:\n{report}"


def test_axe_finds_a_real_violation(app, live_server, browser):
    """Check of the check: a page with an unlabelled field and no language is reported."""
    page = browser.new_page()
    page.goto(live_server.url + "/login")
    page.evaluate("""() => {
        document.documentElement.removeAttribute('lang');
        for (const label of document.querySelectorAll('label')) label.remove();
    }""")
    problems = run_axe(page)
    assert any(p.startswith("html-has-lang") for p in problems), problems
    assert any(p.startswith("label") for p in problems), problems


@pytest.mark.parametrize("locale", ["it", "en"])
def test_pages_before_logging_in(app, live_server, browser, locale):
    """The login and password-reset pages, empty and with their errors shown."""
    context = browser.new_context(locale=locale)
    page = context.new_page()
    found = {}
    for path in ("/login", "/password/forgot"):
        page.goto(live_server.url + path)
        assert page.evaluate("() => document.documentElement.lang") == locale
        found[path] = run_axe(page)
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        found[path + " (sent empty)"] = run_axe(page)
    context.close()
    assert not any(found.values()), found


@pytest.mark.parametrize("locale", ["it", "en"])
def test_offer_page_with_mediators_who_cannot_take_it(app, factory, live_server, browser,
                                                      locale):
    """The coordinator's offer page in both of its states, built whatever the date: some
    mediators available and the others folded under "why not?", and nobody available
    (the list of those who cannot take it is then open from the start, under their next
    free times). Who does not speak the language is counted, not listed."""
    world = make_world(factory)
    running(world)  # the free times are those of the request's project
    day = next_week(0)
    start, end = rome(day, 10), rome(day, 11)
    world.mediator(display_name="Free Amal")
    absent = world.mediator(display_name="Absent Badr")
    factory.add(Absence(mediator=absent, start_dt=start - timedelta(days=1),
                        end_dt=end + timedelta(days=1)))
    busy = world.mediator(display_name="Busy Chaima")
    factory.assignment(request=world.request(), mediator=busy, start=start, end=end,
                       state=AssignmentState.accepted)
    world.mediator(display_name="Romanian Gabi", languages=("ro",))
    some = world.request(slots=((0, 10),))
    nobody = world.request(slots=((0, 18),))  # after everyone's hours
    world.coordinator.locale = locale
    db.session.flush()
    email, some_id, nobody_id = world.coordinator.email, some.id, nobody.id
    # Committed, and nothing read after it: the server needs SQLite's write lock.
    db.session.commit()
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.fill("#email", email)
    page.fill("#password", FACTORY_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    found = {}
    for request_id, open_at_first, available in ((some_id, False, 1), (nobody_id, True, 0)):
        path = f"/coordination/requests/{request_id}/offer"
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        excluded = page.locator("details.app-excluded")
        assert excluded.count() == 1, path
        assert excluded.evaluate("d => d.open") == open_at_first, path
        assert excluded.locator(".app-candidate-unavailable").count() == 3 - available, path
        assert (page.locator(".app-candidate:not(.app-candidate-unavailable)").count()
                == available), path
        assert page.locator(".app-not-speaking").count() == 1, path
        assert page.locator(".app-free-times").count() == 1 - available, path
        found[path] = run_axe(page)
        assert excluded.evaluate("d => d.open"), "axe ran with the list folded"
    context.close()
    assert not any(found.values()), found
