"""What every page shares and the home pages: every count, row and notice leads to where
the action is; the menu; the favicon; the language search box.

The layout itself (nothing scrolls sideways on a phone, the menu on one line at 1366 px)
is measured in a browser by tests/core/test_layout_browser.py."""

import re

import pytest

from mediation.extensions import db
from mediation.models import AssignmentState, RequestState, Role
from mediation.templating import tile_columns

from tests.conftest import Auth, login
from tests.scenarios.booking import rome
from tests.scenarios.coordination import next_week

EN = {"Accept-Language": "en"}


def links(html: str) -> set[str]:
    return {href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', html)}


def main(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def test_coordinator_home_leads_to_the_action(client, world):
    """Each count leads to the queue of that status, the notice to the logs to approve,
    each request waiting for a mediator to its offer page."""
    mediator = world.mediator()
    waiting = world.request(state=RequestState.open)
    world.logged(mediator)
    world.logged(world.mediator())
    db.session.commit()
    login(client, world.coordinator)
    html = main(client.get("/", headers=EN).text)
    found = links(html)
    for state in RequestState:
        assert f"/coordination/requests?status={state.value}" in found, state
    notice = re.search(r'<a href="/coordination/logs">([^<]+)</a>', html)
    assert notice and "2 session logs are waiting for your approval." in notice.group(1)
    assert f"/coordination/requests/{waiting.id}/offer" in found


def test_school_home_leads_to_the_action(client, world, factory):
    """A teacher's counts lead to the school's list of that status, each request and each
    appointment to its page; a lead is told how many requests wait for approval."""
    mediator = world.mediator()
    mine = world.request(state=RequestState.awaiting_approval)
    confirmed = world.request(state=RequestState.confirmed)
    day = next_week(1)
    factory.assignment(request=confirmed, mediator=mediator, start=rome(day, 10),
                       end=rome(day, 11), state=AssignmentState.accepted)
    lead = factory.user(Role.lead, school=world.school)
    db.session.commit()
    login(client, world.teacher)
    html = main(client.get("/", headers=EN).text)
    found = links(html)
    for state in RequestState:
        assert f"/requests?state={state.value}" in found, state
    assert f"/requests/{mine.id}" in found and f"/requests/{confirmed.id}" in found
    upcoming = html.split('id="upcoming-title"', 1)[1].split("</section>", 1)[0]
    assert f'href="/requests/{confirmed.id}"' in upcoming
    assert "await your approval" not in html  # a teacher approves nothing
    Auth(client).logout()
    login(client, lead)
    html = main(client.get("/", headers=EN).text)
    assert re.search(r'<a href="/requests#awaiting-title">1 request awaits your approval</a>',
                     html)


def test_admin_home_leads_to_the_action(client, factory, world):
    """A project leads to the dashboard of its period, an Ambito to its page."""
    admin = factory.user(Role.admin)
    db.session.commit()
    login(client, admin)
    found = links(main(client.get("/", headers=EN).text))
    project = world.project
    assert (f"/reporting/?start={project.start_date.isoformat()}"
            f"&end={project.effective_end_date.isoformat()}") in found
    assert f"/ambiti/{world.school.ambito_id}" in found
    assert "/coordination/requests?status=open" in found


@pytest.mark.parametrize(("count", "phone", "tablet", "laptop"), [
    (9, 3, 5, 9),  # the nine states: 3 x 3, 5 + 4, one row
    (4, 2, 4, 4),  # never 3 + 1
    (10, 2, 5, 8),
    (1, 1, 1, 1),
])
def test_tiles_never_leave_one_alone_on_a_line(count, phone, tablet, laptop):
    classes = tile_columns(count).split()
    assert classes == ["app-tiles", f"app-tiles-{phone}", f"app-tiles-md-{tablet}",
                       f"app-tiles-xl-{laptop}"]
    for columns in (phone, tablet, laptop):
        assert count <= columns or count % columns != 1


def test_every_home_shows_the_nine_counts_in_a_grid(client, world):
    login(client, world.coordinator)
    html = client.get("/").text
    assert f'<ul class="{tile_columns(len(RequestState))} mb-4"' in html
    assert html.count('class="app-tile"') == len(RequestState)


def test_my_account_is_in_the_header_and_the_phone_menu(client, world):
    """The menu of a laptop holds the pages of the role; the account is the user's name
    in the header, and an entry of the menu only on a phone."""
    login(client, world.coordinator)
    html = client.get("/", headers=EN).text
    assert re.search(r'<a class="app-user-link d-none d-lg-flex" href="/account">', html)
    header = html.split('<div class="app-user">', 1)[1].split("</a>", 1)[0]
    assert "My account" in header and world.coordinator.display_name in header
    menu = html.split('<ul class="navbar-nav">', 1)[1].split("</ul>", 1)[0]
    assert re.search(r'<li class="nav-item d-lg-none">\s*<a class="nav-link" href="/account">',
                     menu)
    # The shorter labels of the menu: the pages keep their titles.
    assert ">Session logs<" in menu
    html = client.get("/", headers={"Accept-Language": "it"}).text
    menu = html.split('<ul class="navbar-nav">', 1)[1].split("</ul>", 1)[0]
    assert ">Registri<" in menu and "Registri degli incontri" not in menu
    page = client.get("/account", headers=EN).text
    assert re.search(r'class="app-user-link d-none d-lg-flex" href="/account" '
                     r'aria-current="page"', page)


def test_favicon(client):
    """Browsers ask for /favicon.ico whatever the page says: an icon, not a 404."""
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/vnd.microsoft.icon"
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    html = client.get("/login").text
    assert '<link rel="icon" href="/favicon.ico"' in html
    svg = re.search(r'<link rel="icon" href="([^"]+\.svg)" type="image/svg\+xml">', html)
    assert svg
    with client.get(svg.group(1)) as response:
        assert response.status_code == 200 and b"<svg" in response.data


@pytest.mark.parametrize(("locale", "placeholder"), [
    ("en", "e.g. Arabic, Urdu, Chinese"), ("it", "es. arabo, urdu, cinese")])
def test_language_search_box_has_a_placeholder(client, world, locale, placeholder):
    """The box that filters the languages of the request form says what to type."""
    login(client, world.teacher)
    html = client.get(f"/requests/new/{world.meeting.code}",
                      headers={"Accept-Language": locale}).text
    assert f'data-filter-placeholder="{placeholder}"' in html
