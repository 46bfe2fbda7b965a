"""The series' page (issue #19): each week with what the user can do to it alone, per role;
the page, the policy and the operations agree; a change from the page leaves the other
weeks untouched; the page's queries do not grow with the number of weeks."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from mediation.bookings import operations as ops
from mediation.bookings import policy
from mediation.clock import in_rome
from mediation.errors import DomainError
from mediation.extensions import db
from mediation.models import MediationRequest, RequestState, Role, utcnow

from tests.bookings.test_series_weeks import (
    confirmed_series,
    open_series,
    others,
    the_day_after,
)
from tests.conftest import login

EN = {"Accept-Language": "en"}
WEEK_ACTIONS = ("cancel", "move", "offer", "reassign")


def people(booking):
    f = booking.factory
    users = {
        "teacher": booking.teacher, "lead": booking.lead,
        "colleague": f.user(Role.teacher, school=booking.school),
        "coordinator": booking.coordinator, "admin": f.user(Role.admin),
        "mediator": booking.mediator.user,
        "other_teacher": f.user(Role.teacher),
        "other_coordinator": f.user(Role.coordinator),
    }
    db.session.commit()
    return users


def page_actions(html: str, week_id: int) -> set[str]:
    """The actions shown in the card of the week ``week_id``."""
    start = html.index(f'id="week-{week_id}"')
    end = html.find('id="week-', start + 10)
    card = html[start:end if end > 0 else len(html)]
    return {a for a in WEEK_ACTIONS if f'data-action="{a}"' in card}


#: (state of the week, role) -> the actions the series' page offers on that week.
EXPECTED = {
    "open": {"teacher": {"cancel", "move"}, "lead": {"cancel", "move"},
             "colleague": {"cancel"}, "coordinator": {"cancel", "move", "offer"},
             "admin": {"cancel", "move", "offer"}},
    "confirmed": {"teacher": {"cancel", "move"}, "lead": {"cancel", "move"},
                  "colleague": {"cancel"}, "coordinator": {"cancel", "move", "reassign"},
                  "admin": {"cancel", "move", "reassign"}},
    "cancelled": {"teacher": set(), "lead": set(), "colleague": set(), "coordinator": set(),
                  "admin": set()},
}


@pytest.mark.parametrize("state", sorted(EXPECTED))
def test_page_policy_and_operations_agree(app, booking, state):
    series = confirmed_series(booking) if state == "confirmed" else open_series(booking)
    week = series.requests[1]
    if state == "cancelled":
        ops.cancel_request(booking.teacher, week, "duplicate")
        db.session.commit()
    users = people(booking)
    spare = booking.factory.mediator(ambiti=[booking.mediator.ambiti[0]])
    db.session.commit()
    start, end = the_day_after(week)
    booked = (week.slots[0].start_dt, week.slots[0].end_dt)
    for role, user in users.items():
        client = app.test_client()
        login(client, user)
        response = client.get(f"/requests/series/{series.id}", headers=EN)
        if role not in EXPECTED[state]:
            # A mediator, another school's teacher, another Ambito's coordinator.
            assert response.status_code == 404, role
            continue
        assert response.status_code == 200, role
        shown = page_actions(response.text, week.id)
        allowed = {a for a, yes in vars(policy.week_actions(user, week, utcnow())).items()
                   if yes and a in WEEK_ACTIONS}
        run = {
            "cancel": lambda u=user: ops.cancel_request(u, week, "duplicate"),
            "move": lambda u=user: ops.move_week(u, week, start, end, "x"),
            "offer": lambda u=user: ops.offer(u, week, spare, *booked),
            "reassign": lambda u=user: ops.reassign(u, week, spare, "x", *booked),
        }
        accepted = set()
        for action, attempt in run.items():
            savepoint = db.session.begin_nested()
            try:
                attempt()
                accepted.add(action)
            except DomainError:
                pass
            finally:
                savepoint.rollback()
                db.session.expire_all()
        assert shown == allowed == accepted == EXPECTED[state][role], role


def test_move_a_week_from_the_page(app, booking):
    series = confirmed_series(booking)
    week = series.requests[2]
    before = others(series, week)
    start, _ = the_day_after(week)
    local = in_rome(start)
    client = app.test_client()
    login(client, booking.lead)
    url = f"/requests/series/{series.id}/weeks/{week.id}/move"
    prefix = f"week{week.id}-move-"
    response = client.post(url, data={prefix + "date": local.date().isoformat(),
                                      prefix + "start": local.strftime("%H:%M"),
                                      prefix + "reason": "Parents' evening"}, headers=EN)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/requests/series/{series.id}#week-{week.id}")
    db.session.expire_all()
    assert others(series, week) == before
    assert (week.state, week.slots[0].start_dt) == (RequestState.offered, start)
    page = client.get(response.headers["Location"], headers=EN).text
    assert "Week moved; the other weeks do not change." in page


def test_a_refused_move_keeps_what_was_typed(app, booking):
    """A Saturday: the message next to the day, the reason typed still there, nothing moved."""
    series = open_series(booking)
    week = series.requests[0]
    saturday = in_rome(week.slots[0].start_dt).date()
    saturday += timedelta(days=(5 - saturday.weekday()) % 7 or 7)
    client = app.test_client()
    login(client, booking.teacher)
    prefix = f"week{week.id}-move-"
    response = client.post(f"/requests/series/{series.id}/weeks/{week.id}/move", data={
        prefix + "date": saturday.isoformat(), prefix + "start": "10:00",
        prefix + "reason": "Gita scolastica"}, headers=EN)
    assert response.status_code == 400
    assert "Schools are closed at the weekend" in response.text
    assert "Gita scolastica" in response.text
    assert f'id="{prefix}date-error"' in response.text
    db.session.expire_all()
    assert week.slots[0].start_dt != saturday


def test_cancel_a_week_from_the_page(app, booking):
    series = confirmed_series(booking)
    week = series.requests[0]
    before = others(series, week)
    client = app.test_client()
    login(client, booking.coordinator)
    prefix = f"week{week.id}-cancel-"
    response = client.post(f"/requests/series/{series.id}/weeks/{week.id}/cancel", data={
        prefix + "reason": "duplicate"}, headers=EN)
    assert response.status_code == 302
    db.session.expire_all()
    assert week.state == RequestState.cancelled
    assert others(series, week) == before


@pytest.mark.parametrize("role", ["mediator", "other_teacher", "other_coordinator"])
def test_outsiders_get_404_on_every_series_route(app, booking, role):
    series = open_series(booking)
    week = series.requests[0]
    user = people(booking)[role]
    client = app.test_client()
    login(client, user)
    assert client.get(f"/requests/series/{series.id}").status_code == 404
    for action in ("move", "cancel"):
        response = client.post(f"/requests/series/{series.id}/weeks/{week.id}/{action}",
                               data={})
        assert response.status_code == 404
    db.session.expire_all()
    assert week.state == RequestState.open


def test_a_week_of_another_series_is_a_404(app, booking):
    first, second = open_series(booking), open_series(booking)
    client = app.test_client()
    login(client, booking.teacher)
    other_week = second.requests[0]
    response = client.post(f"/requests/series/{first.id}/weeks/{other_week.id}/cancel",
                           data={f"week{other_week.id}-cancel-reason": "duplicate"})
    assert response.status_code == 404


def test_the_page_queries_do_not_grow_with_the_weeks(app, booking, count_queries):
    short, long = confirmed_series(booking, weeks=2), confirmed_series(booking, weeks=8, hour=14)
    client = app.test_client()
    login(client, booking.coordinator)
    counts = []
    for series in (short, long):
        db.session.commit()
        with count_queries() as counter:
            assert client.get(f"/requests/series/{series.id}").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_the_request_page_links_to_its_series(app, booking):
    series = open_series(booking)
    client = app.test_client()
    login(client, booking.teacher)
    page = client.get(f"/requests/{series.requests[1].id}", headers=EN).text
    assert f'href="/requests/series/{series.id}"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediationRequest)) == 4
