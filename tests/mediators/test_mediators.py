"""Mediators' availability, absences and profiles: operations, pages per role, calendar."""

import re
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from mediation.errors import InvalidInput, NotAllowed
from mediation.extensions import db
from mediation.mediators import operations
from mediation.models import (
    Absence,
    AssignmentState,
    AuditEvent,
    AvailabilityRange,
    LanguageLevel,
    MediatorMunicipality,
    RequestState,
    Role,
)

from tests.conftest import login
from tests.scenarios.booking import rome

EN = {"Accept-Language": "en"}
#: A Monday far enough ahead for every test to be in the future: two to three weeks from
#: today (a fixed date here made the absence forms fail once it had gone by).
MONDAY = date.today() + timedelta(days=14 + (7 - date.today().weekday()) % 7)
TUESDAY, WEDNESDAY, THURSDAY = (MONDAY + timedelta(days=n) for n in (1, 2, 3))


class World:
    """An Ambito with a school, its coordinator and two mediators; another Ambito beside it."""

    def __init__(self, factory):
        self.factory = factory
        self.ambito = factory.ambito()
        self.school = factory.school(self.ambito, name="Istituto Comprensivo Lodi Secondo")
        self.coordinator = factory.user(Role.coordinator, ambito=self.ambito)
        self.mediator = factory.mediator(ambiti=[self.ambito], display_name="Amina")
        self.other_mediator = factory.mediator(ambiti=[self.ambito], display_name="Bruno")
        self.other_ambito = factory.ambito()
        self.other_coordinator = factory.user(Role.coordinator, ambito=self.other_ambito)
        self.teacher = factory.user(Role.teacher, school=self.school)
        self.admin = factory.user(Role.admin)
        self.project = factory.project()

    def assignment(self, start, minutes=60, mediator=None, school=None,
                   state=AssignmentState.accepted, language="ar"):
        request = self.factory.request(
            school=school or self.school, project=self.project,
            state=RequestState.confirmed if state == AssignmentState.accepted
            else RequestState.offered,
            language=self.factory.language(language),
        )
        return self.factory.assignment(request=request, mediator=mediator or self.mediator,
                                       start=start, end=start + timedelta(minutes=minutes),
                                       state=state)


@pytest.fixture
def world(factory):
    return World(factory)


def events(action):
    return db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


# --- operations: availability ---------------------------------------------------


def test_mediator_replaces_own_weekly_pattern_with_audit(world):
    """set_availability replaces every range and records the new pattern."""
    user = world.mediator.user
    operations.set_availability(user, world.mediator, [
        (0, time(8), time(12)), (0, time(14), time(16)), (3, time(9), time(13)),
    ])
    db.session.commit()
    rows = db.session.scalars(
        sa.select(AvailabilityRange).where(AvailabilityRange.mediator_id == world.mediator.id)
        .order_by(AvailabilityRange.weekday, AvailabilityRange.start_time)
    ).all()
    assert [(r.weekday, r.start_time, r.end_time) for r in rows] == [
        (0, time(8), time(12)), (0, time(14), time(16)), (3, time(9), time(13)),
    ]
    (event,) = events("mediator.availability_changed")
    assert event.actor_id == user.id and event.object_id == world.mediator.id
    assert event.data["ranges"] == [[0, "08:00", "12:00"], [0, "14:00", "16:00"],
                                    [3, "09:00", "13:00"]]


@pytest.mark.parametrize("ranges", [
    [(1, time(12), time(10))],
    [(1, time(10), time(10))],
    [(1, time(8), time(12)), (1, time(11), time(14))],
    [(1, time(6, 30), time(9))],
    [(1, time(18), time(20, 30))],
])
def test_availability_refuses_bad_ranges(world, ranges):
    """Reversed, empty, overlapping or out-of-hours ranges are refused for their weekday."""
    with pytest.raises(InvalidInput) as error:
        operations.set_availability(world.mediator.user, world.mediator, ranges)
    assert error.value.field == "weekday_1"
    assert events("mediator.availability_changed") == []


def test_availability_accepts_touching_ranges_and_the_day_bounds(world):
    """07:00–12:00 and 12:00–20:00 on one day touch without overlapping."""
    operations.set_availability(world.mediator.user, world.mediator,
                                [(2, time(7), time(12)), (2, time(12), time(20))])
    assert len(world.mediator.availability) == 2


def test_who_may_change_availability(world):
    """The mediator, their coordinator and the admin may; anyone else gets NotAllowed."""
    ranges = [(0, time(9), time(11))]
    for actor in (world.mediator.user, world.coordinator, world.admin):
        operations.set_availability(actor, world.mediator, ranges)
    for actor in (world.other_mediator.user, world.other_coordinator, world.teacher):
        with pytest.raises(NotAllowed):
            operations.set_availability(actor, world.mediator, ranges)
    assert len(events("mediator.availability_changed")) == 3


# --- operations: absences -------------------------------------------------------


def test_absence_overlapping_appointments_is_kept_and_reports_them(world):
    """An absence over active assignments is recorded, and those assignments are returned."""
    busy = world.assignment(rome(MONDAY, 10))
    offered = world.assignment(rome(TUESDAY, 9),
                               state=AssignmentState.offered)
    world.assignment(rome(TUESDAY, 14), state=AssignmentState.cancelled)
    world.assignment(rome(THURSDAY, 9))  # after the absence
    conflicts = operations.add_absence(
        world.mediator.user, world.mediator, rome(MONDAY, 8),
        rome(WEDNESDAY, 0), "Visita medica",
    )
    db.session.commit()
    assert [a.id for a in conflicts] == [busy.id, offered.id]
    absence = db.session.scalars(sa.select(Absence)).one()
    assert absence.reason == "Visita medica"
    (event,) = events("mediator.absence_added")
    assert event.data["overlapping_assignment_ids"] == [busy.id, offered.id]
    assert "Visita" not in str(event.data)  # free text stays out of the audit trail


def test_absence_must_end_after_it_starts(world):
    """An absence ending at or before its start is refused on the end field."""
    with pytest.raises(InvalidInput) as error:
        operations.add_absence(world.mediator.user, world.mediator, rome(MONDAY, 10),
                               rome(MONDAY, 10))
    assert error.value.field == "end"


def test_remove_absence_and_its_actor_check(world):
    """The coordinator removes an absence; another Ambito's coordinator may not."""
    operations.add_absence(world.mediator.user, world.mediator, rome(MONDAY, 8),
                           rome(MONDAY, 12))
    absence = db.session.scalars(sa.select(Absence)).one()
    with pytest.raises(NotAllowed):
        operations.remove_absence(world.other_coordinator, absence)
    with pytest.raises(NotAllowed):
        operations.add_absence(world.teacher, world.mediator, rome(MONDAY, 8), rome(MONDAY, 9))
    operations.remove_absence(world.coordinator, absence)
    db.session.commit()
    assert db.session.scalars(sa.select(Absence)).all() == []
    (event,) = events("mediator.absence_removed")
    assert event.actor_id == world.coordinator.id and event.data["absence_id"] == absence.id


# --- operations: profile ----------------------------------------------------------


def profile_args(world, **overrides):
    args = dict(weekly_hour_cap=Decimal(12),
                languages=[(world.factory.language("ar").id, "native"),
                           (world.factory.language("fr").id, "c1")],
                ambito_ids=[world.ambito.id],
                municipalities=["Lodi", " Codogno ", "lodi", ""])
    args.update(overrides)
    return args


def test_coordinator_changes_profile(world):
    """Cap, languages with levels and municipalities change, with an audit event."""
    operations.set_profile(world.coordinator, world.mediator, **profile_args(world))
    db.session.commit()
    mediator = world.mediator
    assert mediator.weekly_hour_cap == Decimal(12)
    assert {(ml.language.code, ml.level) for ml in mediator.languages} == {
        ("ar", LanguageLevel.native), ("fr", LanguageLevel.c1)}
    assert sorted(m.municipality for m in db.session.scalars(
        sa.select(MediatorMunicipality))) == ["Codogno", "Lodi"]
    (event,) = events("mediator.profile_changed")
    assert event.data["weekly_hour_cap"] == "12"
    assert event.data["municipalities"] == ["Codogno", "Lodi"]


def test_mediator_may_not_change_own_cap_or_ambiti(world):
    """The cap and the Ambiti are the coordinator's: a mediator cannot set_profile."""
    with pytest.raises(NotAllowed):
        operations.set_profile(world.mediator.user, world.mediator, **profile_args(world))


def test_mediator_states_own_languages_and_towns(world):
    """A mediator changes their languages and towns, audited; the cap stays as it was."""
    fr = world.factory.language("fr")
    operations.set_own_profile(world.mediator.user, world.mediator,
                               [(fr.id, "c1")], ["Lodi", "lodi", "Codogno"])
    db.session.commit()
    assert {(ml.language.code, ml.level) for ml in world.mediator.languages} == {
        ("fr", LanguageLevel.c1)}
    assert sorted(m.municipality for m in world.mediator.municipalities) == ["Codogno", "Lodi"]
    assert world.mediator.weekly_hour_cap == Decimal(20)
    (event,) = events("mediator.profile_changed")
    assert event.actor_id == world.mediator.user.id
    assert event.data == {"languages": [[fr.id, "c1"]], "municipalities": ["Codogno", "Lodi"]}
    with pytest.raises(InvalidInput) as error:
        operations.set_own_profile(world.mediator.user, world.mediator, [], [])
    assert error.value.field == "languages"


def test_only_the_mediator_states_their_own_languages(world):
    """Another mediator, and even the coordinator, cannot use the mediator's own form."""
    other = world.factory.mediator(ambiti=[world.ambito])
    for actor in (other.user, world.coordinator):
        with pytest.raises(NotAllowed):
            operations.set_own_profile(actor, world.mediator, [(1, "c1")], [])


def test_coordinator_touches_only_own_ambito(world):
    """A coordinator cannot add another Ambito; the admin can."""
    both = [world.ambito.id, world.other_ambito.id]
    with pytest.raises(InvalidInput) as error:
        operations.set_profile(world.coordinator, world.mediator,
                               **profile_args(world, ambito_ids=both))
    assert error.value.field == "ambiti"
    operations.set_profile(world.admin, world.mediator, **profile_args(world, ambito_ids=both))
    assert {a.id for a in world.mediator.ambiti} == set(both)


@pytest.mark.parametrize("overrides, field", [
    ({"weekly_hour_cap": Decimal(0)}, "weekly_hour_cap"),
    ({"weekly_hour_cap": Decimal(61)}, "weekly_hour_cap"),
    ({"languages": []}, "languages"),
    ({"ambito_ids": []}, "ambiti"),
])
def test_profile_refuses_bad_values(world, overrides, field):
    """An out-of-range cap, no language or no Ambito is refused on its field."""
    with pytest.raises(InvalidInput) as error:
        operations.set_profile(world.coordinator, world.mediator,
                               **profile_args(world, **overrides))
    assert error.value.field == field


def test_profile_refuses_a_language_twice(world):
    """The same language on two rows is refused."""
    ar = world.factory.language("ar").id
    with pytest.raises(InvalidInput) as error:
        operations.set_profile(world.coordinator, world.mediator, **profile_args(
            world, languages=[(ar, "native"), (ar, "c1")]))
    assert error.value.field == "languages"


# --- pages: who reaches what ------------------------------------------------------


def test_mediator_edits_own_availability(app, world):
    """A mediator saves their weekly pattern from /mediators/me/availability."""
    client = login(app.test_client(), world.mediator.user)
    page = client.get("/mediators/me/availability", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index("Monday") < html.index('name="d0_1_from"') < html.index("Tuesday")
    assert html.index("Saturday") < html.index('name="d5_1_from"')
    assert 'name="weekly_hour_cap"' not in html and 'name="ambiti"' not in html
    assert 'name="languages-0-language"' in html and 'name="municipalities"' in html
    fr = world.factory.language("fr")
    db.session.commit()
    response = client.post("/mediators/me/availability", data={
        "d0_1_from": "08:00", "d0_1_to": "12:00", "d0_2_from": "14:00", "d0_2_to": "16:00",
        "d4_1_from": "09:30", "d4_1_to": "13:00",
        "languages-0-language": str(fr.id), "languages-0-level": "b2",
        "municipalities": "Codogno",
        # a mediator cannot sneak in a cap or an Ambito change
        "weekly_hour_cap": "59", "ambiti": [str(world.other_ambito.id)],
    })
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/mediators/me/week")
    db.session.expire_all()
    assert [(r.weekday, r.start_time, r.end_time) for r in world.mediator.availability] == [
        (0, time(8), time(12)), (0, time(14), time(16)), (4, time(9, 30), time(13))]
    assert world.mediator.weekly_hour_cap == Decimal(20)
    assert [a.id for a in world.mediator.ambiti] == [world.ambito.id]
    assert [(ml.language_id, ml.level.value) for ml in world.mediator.languages] == [
        (fr.id, "b2")]
    assert [m.municipality for m in world.mediator.municipalities] == ["Codogno"]


def test_invalid_availability_is_shown_on_its_day(app, world):
    """Overlapping ranges come back with 400, the message on the day and the typed times."""
    client = login(app.test_client(), world.mediator.user)
    language = {"languages-0-language": str(world.mediator.languages[0].language_id),
                "languages-0-level": "native"}
    response = client.post("/mediators/me/availability", headers=EN, data={
        "d2_1_from": "08:00", "d2_1_to": "12:00", "d2_2_from": "11:00", "d2_2_to": "13:00",
        "d3_1_from": "09:00", **language,
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give both times, or neither." in html
    response = client.post("/mediators/me/availability", headers=EN, data={
        "d2_1_from": "08:00", "d2_1_to": "12:00", "d2_2_from": "11:00", "d2_2_to": "13:00",
        **language,
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="weekday_2-error"' in html and "must not overlap" in html
    assert 'value="11:00"' in html
    db.session.expire_all()
    assert len(world.mediator.availability) == 5  # unchanged


def test_coordinator_edits_profile_and_availability(app, world):
    """The coordinator's form changes cap, languages, municipalities and the pattern."""
    fr = world.factory.language("fr")
    ar = world.factory.language("ar")
    client = login(app.test_client(), world.coordinator)
    url = f"/mediators/{world.mediator.id}/availability"
    page = client.get(url, headers=EN)
    assert page.status_code == 200 and 'name="weekly_hour_cap"' in page.get_data(as_text=True)
    response = client.post(url, data={
        "d1_1_from": "08:00", "d1_1_to": "13:00",
        "weekly_hour_cap": "15",
        "languages-0-language": str(ar.id), "languages-0-level": "native",
        "languages-1-language": str(fr.id), "languages-1-level": "b2",
        "languages-2-language": "", "languages-2-level": "",
        "ambiti": [str(world.ambito.id)],
        "municipalities": "Lodi, Casalpusterlengo\nCodogno",
    })
    assert response.status_code == 302
    db.session.expire_all()
    mediator = world.mediator
    assert mediator.weekly_hour_cap == Decimal(15)
    assert {(ml.language_id, ml.level.value) for ml in mediator.languages} == {
        (ar.id, "native"), (fr.id, "b2")}
    assert [m.municipality for m in mediator.municipalities] == [
        "Casalpusterlengo", "Codogno", "Lodi"]
    assert [(r.weekday, r.start_time) for r in mediator.availability] == [(1, time(8))]


def test_mediator_adds_and_deletes_own_absence(app, world):
    """An absence over several days is added from the form, listed, then deleted."""
    client = login(app.test_client(), world.mediator.user)
    response = client.post("/mediators/me/absences", data={
        "start_date": TUESDAY.isoformat(), "start_time": "", "end_date": WEDNESDAY.isoformat(),
        "end_time": "", "reason": "Ferie",
    })
    assert response.status_code == 302
    absence = db.session.scalars(sa.select(Absence)).one()
    assert absence.start_dt == rome(TUESDAY, 0)
    assert absence.end_dt == rome(THURSDAY, 0)
    page = client.get("/mediators/me/absences", headers=EN)
    assert f'id="absence-{absence.id}"' in page.get_data(as_text=True)
    response = client.post(f"/mediators/me/absences/{absence.id}/delete")
    assert response.status_code == 302
    assert db.session.scalars(sa.select(Absence)).all() == []


def test_absence_over_an_appointment_warns_and_lists_it(app, world):
    """Adding an absence over an appointment succeeds, warns, and lists the appointment."""
    assignment = world.assignment(rome(MONDAY, 10))
    client = login(app.test_client(), world.coordinator)
    url = f"/mediators/{world.mediator.id}/absences"
    response = client.post(url, headers=EN, follow_redirects=True, data={
        "start_date": MONDAY.isoformat(), "start_time": "09:00",
        "end_date": MONDAY.isoformat(), "end_time": "18:00",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "overlaps 1 appointment" in html
    assert f'/requests/{assignment.request_id}"' in html


def test_absence_form_refuses_end_before_start(app, world):
    """An end before the start comes back with 400 and nothing is stored."""
    client = login(app.test_client(), world.mediator.user)
    response = client.post("/mediators/me/absences", headers=EN, data={
        "start_date": WEDNESDAY.isoformat(), "start_time": "10:00",
        "end_date": TUESDAY.isoformat(), "end_time": "10:00",
    })
    assert response.status_code == 400
    assert "must end after it starts" in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Absence)).all() == []


def test_other_mediator_gets_404_on_pages_of_a_colleague(app, world):
    """Mediator B reaches none of A's pages, nor can delete A's absence."""
    absence = world.factory.add(Absence(mediator=world.mediator, start_dt=rome(MONDAY, 8),
                                        end_dt=rome(MONDAY, 12)))
    client = login(app.test_client(), world.other_mediator.user)
    base = f"/mediators/{world.mediator.id}"
    for url in (f"{base}/week", f"{base}/availability", f"{base}/absences"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{base}/availability", data={}).status_code == 404
    assert client.post(f"{base}/absences/{absence.id}/delete").status_code == 404
    assert client.post(f"/mediators/me/absences/{absence.id}/delete").status_code == 404
    assert db.session.get(Absence, absence.id) is not None
    assert client.get("/mediators").status_code == 404
    assert client.get("/mediators/calendar").status_code == 404


def test_other_ambito_coordinator_and_teacher_get_404(app, world):
    """Another Ambito's coordinator and a teacher see none of the mediator's pages."""
    base = f"/mediators/{world.mediator.id}"
    for user in (world.other_coordinator, world.teacher):
        client = login(app.test_client(), user)
        for url in (f"{base}/week", f"{base}/availability", f"{base}/absences"):
            assert client.get(url).status_code == 404, (user.role, url)
        assert client.get("/mediators/me/week").status_code == 404
    client = login(app.test_client(), world.teacher)
    assert client.get("/mediators").status_code == 404
    assert client.get("/mediators/calendar").status_code == 404


def test_coordinator_list_shows_own_ambito_mediators(app, world):
    """The list holds the Ambito's mediators only, with their hours this week."""
    stranger = world.factory.mediator(ambiti=[world.other_ambito], display_name="Zeno")
    client = login(app.test_client(), world.coordinator)
    html = client.get("/mediators", headers=EN).get_data(as_text=True)
    assert f'data-mediator="{world.mediator.id}"' in html
    assert f'data-mediator="{world.other_mediator.id}"' in html
    assert f'data-mediator="{stranger.id}"' not in html


# --- the week view ------------------------------------------------------------------


def week_html(client, url, start: date) -> str:
    response = client.get(f"{url}?start={start.isoformat()}", headers=EN)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def day_column(html: str, day: date) -> str:
    """The phone list's section of one day (it holds everything that day shows)."""
    match = re.search(rf'<section[^>]*aria-labelledby="day-{day.isoformat()}".*?</section>',
                      html, re.S)
    assert match, day
    return match.group(0)


def test_week_shows_assignment_and_absence_crossing_midnight(app, world):
    """An appointment, and an absence from Tuesday 22:00 to Wednesday 06:00 on both days."""
    assignment = world.assignment(rome(TUESDAY, 10, 30), minutes=90)
    world.factory.add(Absence(mediator=world.mediator, start_dt=rome(TUESDAY, 22),
                              end_dt=rome(WEDNESDAY, 6), reason="Viaggio"))
    client = login(app.test_client(), world.mediator.user)
    html = week_html(client, "/mediators/me/week", MONDAY)
    tue, wed = day_column(html, TUESDAY), day_column(html, WEDNESDAY)
    assert f'data-assignment="{assignment.id}"' in tue
    # English on a 24-hour clock, as people working in Italy read it.
    assert "10:30" in tue and "12:00" in tue and "IC Lodi Secondo" in tue
    assert "Absent from 22:00 (Viaggio)" in tue
    assert "Absent until 06:00 (Viaggio)" in wed
    assert "Absent" not in day_column(html, MONDAY)
    assert not re.search(r"\d\s?[AP]M\b", html)
    # The grid shows both halves too, in the "All day" row.
    assert html.count("Absent from 22:00") == 2 and html.count("Absent until 06:00") == 2


def test_coordinator_sees_mediator_week_with_other_ambito_work_as_busy(app, world):
    """Work in another Ambito appears as busy time, without its school."""
    world.mediator.ambiti.append(world.other_ambito)
    far_school = world.factory.school(world.other_ambito, name="Scuola Lontana")
    world.assignment(rome(MONDAY, 9), school=far_school)
    client = login(app.test_client(), world.coordinator)
    html = week_html(client, f"/mediators/{world.mediator.id}/week", MONDAY)
    assert "Busy in another Ambito" in html and "Lontana" not in html


@pytest.mark.parametrize("monday", [
    date(2026, 3, 23), date(2026, 3, 30),  # around the start of summer time (29 March)
    date(2026, 10, 19), date(2026, 10, 26),  # around its end (25 October)
])
def test_availability_keeps_wall_clock_times_across_dst(app, world, monday):
    """A Monday 08:00–12:00 range shows as 08:00–12:00, four hour rows, in every season."""
    world.factory.project(start_date=date(2025, 9, 1))
    operations.set_availability(world.mediator.user, world.mediator,
                                [(0, time(8), time(12))])
    assignment = world.assignment(rome(monday, 8))
    client = login(app.test_client(), world.mediator.user)
    html = week_html(client, "/mediators/me/week", monday)
    mon = day_column(html, monday)
    assert '<time datetime="08:00">08:00</time>–<time datetime="12:00">12:00</time>' in mon
    assert f'data-assignment="{assignment.id}"' in mon
    assert "08:00–09:00" in re.sub(r"<[^>]+>", "", mon)
    grid = html.split('class="table table-bordered align-top app-week"')[1]
    assert grid.count("table-success") == 4  # 08, 09, 10 and 11 o'clock


# --- the calendar -------------------------------------------------------------------


def test_calendar_shows_blocks_and_absences(app, world):
    """Week view: each mediator a row, appointments in their day, absences shaded."""
    booked = world.assignment(rome(WEDNESDAY, 9),
                              state=AssignmentState.offered)
    world.factory.add(Absence(mediator=world.other_mediator, start_dt=rome(MONDAY, 0),
                              end_dt=rome(TUESDAY, 0)))
    client = login(app.test_client(), world.coordinator)
    html = client.get(f"/mediators/calendar?day={MONDAY.isoformat()}", headers=EN)
    html = html.get_data(as_text=True)
    assert f'data-assignment="{booked.id}" data-state="offered"' in html
    assert "text-bg-warning" in html and "Absent all day" in html
    day = client.get(f"/mediators/calendar?view=day&day={WEDNESDAY}",
                     headers=EN).get_data(as_text=True)
    row = re.search(rf'<tr data-mediator="{world.mediator.id}">.*?</tr>', day, re.S).group(0)
    cells = re.findall(r"<td.*?</td>", row, re.S)
    assert len(cells) == 13 and f'data-assignment="{booked.id}"' in cells[2]  # 09:00


def _calendar_world(factory, world, n):
    for i in range(n):
        mediator = factory.mediator(ambiti=[world.ambito], languages=(f"l{factory.n()}",))
        school = factory.school(world.ambito)
        world.assignment(rome(MONDAY + timedelta(days=i % 5), 8 + i % 9), mediator=mediator,
                         school=school, language=mediator.languages[0].language.code,
                         state=AssignmentState.offered if i % 2 else AssignmentState.accepted)
        if i % 3 == 0:
            factory.add(Absence(mediator=mediator, start_dt=rome(MONDAY, 0),
                                end_dt=rome(MONDAY, 12)))


@pytest.mark.parametrize("path", [
    f"/mediators/calendar?day={MONDAY.isoformat()}",
    f"/mediators/calendar?view=day&day={MONDAY.isoformat()}",
    "/mediators",
])
def test_calendar_and_list_queries_do_not_grow(app, factory, count_queries, path):
    """The calendar (week and day) and the list cost the same with 5 or 50 mediators."""
    counts = []
    for n in (5, 50):
        world = World(factory)
        _calendar_world(factory, world, n)
        db.session.commit()
        client = login(app.test_client(), world.coordinator)
        db.session.expunge_all()
        with count_queries() as counter:
            response = client.get(path)
        assert response.status_code == 200
        assert response.get_data(as_text=True).count("<tr data-mediator=") == n + 2
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
