"""Matching: each hard filter, each score factor, the best slot, and a property test."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mediation.bookings import matching
from mediation.bookings import operations as ops
from mediation.clock import to_utc
from mediation.errors import InvalidInput, SlotTaken
from mediation.extensions import db
from mediation.models import (
    Absence,
    AssignmentState,
    AvailabilityRange,
    Closure,
    Cycle,
    MediatorMunicipality,
    Mode,
    PreferredSlot,
    PupilCase,
    RequestState,
    Role,
    utcnow,
)


def monday_after(days=7):
    day = datetime.now(UTC).date() + timedelta(days=days)
    return day + timedelta(days=(7 - day.weekday()) % 7)


class World:
    """A school, a coordinator and an open request for Monday 10:00-11:00 in Arabic."""

    def __init__(self, booking):
        self.b = booking
        self.f = booking.factory
        self.day = monday_after()
        self.start, self.end = to_utc(self.day, time(10)), to_utc(self.day, time(11))
        self.request = self.new_request()

    def new_request(self, school=None, **kw):
        school = school or self.b.school
        kw.setdefault("language", self.f.language("ar"))
        kw.setdefault("site", school.sites[0])
        if school == self.b.school:
            kw.setdefault("requester", self.b.teacher)
        req = self.f.request(school=school, project=self.b.project, type=self.b.meeting,
                             state=RequestState.open, **kw)
        self.f.add(PreferredSlot(request=req, position=1, start_dt=self.start, end_dt=self.end))
        return req

    def mediator(self, name, languages=("ar",), **kw):
        return self.f.mediator(ambiti=[self.b.school.ambito], languages=languages,
                               display_name=name, **kw)

    def booked(self, mediator, start, end, school=None, state=AssignmentState.accepted, **kw):
        req = self.new_request(school=school, **kw)
        # What the lifecycle does: an accepted assignment confirms its request.
        req.state = {AssignmentState.accepted: RequestState.confirmed,
                     AssignmentState.offered: RequestState.offered}.get(state, req.state)
        return self.f.assignment(request=req, mediator=mediator, start=start, end=end,
                                 state=state)

    def rank(self, start=None, end=None, user=None, request=None):
        db.session.flush()
        return {r.mediator.display_name: r for r in matching.rank(
            request or self.request, user or self.b.coordinator, start or self.start,
            end or self.end)}


@pytest.fixture
def world(booking):
    return World(booking)


class TestHardFilters:
    def test_language_and_varieties(self, world):
        """A variety asked for: the general language fits, a sibling variety does not."""
        arabic = world.f.language("ar")
        moroccan = world.f.language("ary", parent_id=arabic.id)
        world.f.language("arz", parent_id=arabic.id)
        world.request.language = moroccan
        world.mediator("General", languages=("ar",))
        world.mediator("Exact", languages=("ary",))
        world.mediator("Egyptian", languages=("arz",))
        world.mediator("Romanian", languages=("ro",))
        ranked = world.rank()
        assert ranked["Exact"].available and ranked["General"].available
        assert ranked["Egyptian"].reason == "variety"
        assert ranked["Romanian"].reason == "language"
        assert ranked["Exact"].score > ranked["General"].score  # the exact variety wins

    def test_covers_the_ambito_or_the_municipality(self, world):
        """A mediator of another Ambito is excluded unless they cover the school's town."""
        admin = world.f.user(Role.admin)
        world.f.mediator(ambiti=[world.f.ambito()], display_name="Elsewhere")
        town = world.f.mediator(ambiti=[world.f.ambito()], display_name="Town")
        world.f.add(MediatorMunicipality(mediator_id=town.id,
                                         municipality=world.b.school.municipality))
        ranked = world.rank(user=admin)
        assert ranked["Elsewhere"].reason == "ambito"
        assert ranked["Town"].available
        assert "Elsewhere" not in world.rank()  # a coordinator sees only their Ambito's

    @pytest.mark.parametrize(("start", "end", "ok"), [
        (time(8), time(17), True), (time(7, 45), time(8, 45), False),
        (time(16, 30), time(17, 30), False), (time(16), time(17), True)])
    def test_whole_slot_inside_the_weekly_availability(self, world, start, end, ok):
        """Available 08:00-17:00: the whole slot must fit, edges included."""
        world.mediator("Amal")
        ranked = world.rank(to_utc(world.day, start), to_utc(world.day, end))
        assert ranked["Amal"].available is ok
        if not ok:
            assert ranked["Amal"].reason == "unavailable"

    def test_absence_crossing_midnight(self, world):
        """An absence from 22:00 to 10:30 the next day blocks a 10:00 slot, not an 11:00 one."""
        m = world.mediator("Amal")
        world.f.add(Absence(mediator=m, start_dt=to_utc(world.day - timedelta(days=1), time(22)),
                            end_dt=to_utc(world.day, time(10, 30))))
        assert world.rank()["Amal"].reason == "absent"
        later = world.rank(to_utc(world.day, time(10, 30)), to_utc(world.day, time(11, 30)))
        assert later["Amal"].available

    def test_overlap_and_back_to_back(self, world):
        """An active overlapping assignment excludes; a declined one and back-to-back do not."""
        busy, free = world.mediator("Busy"), world.mediator("Free")
        world.booked(busy, world.start + timedelta(minutes=30), world.end + timedelta(hours=1))
        world.booked(free, world.start, world.end, state=AssignmentState.declined)
        world.booked(free, world.end, world.end + timedelta(hours=1))
        ranked = world.rank()
        assert ranked["Busy"].reason == "busy"
        assert ranked["Free"].available

    def test_travel_buffer(self, app, world):
        """Ending at 9:45 at another school leaves no time to travel; the same site does."""
        other_school = world.f.school(world.b.school.ambito)
        far, near, phone = world.mediator("Far"), world.mediator("Near"), world.mediator("Phone")
        nine, quarter_to = to_utc(world.day, time(9)), to_utc(world.day, time(9, 45))
        world.booked(far, nine, quarter_to, school=other_school)
        world.booked(near, nine, quarter_to)
        world.booked(phone, nine, quarter_to, school=other_school, mode=Mode.phone)
        ranked = world.rank()
        assert ranked["Far"].reason == "travel"
        assert ranked["Near"].available and ranked["Phone"].available
        app.config["MATCHING_TRAVEL_BUFFER_MINUTES"] = 10
        assert world.rank()["Far"].available

    def test_weekly_cap(self, world):
        """Hours already booked in the same week count against the cap; last week's do not."""
        m = world.mediator("Capped")
        m.weekly_hour_cap = Decimal("1.5")
        world.booked(m, to_utc(world.day + timedelta(days=1), time(9)),
                     to_utc(world.day + timedelta(days=1), time(10)))
        world.booked(m, to_utc(world.day - timedelta(days=3), time(9)),
                     to_utc(world.day - timedelta(days=3), time(12)))
        ranked = world.rank()
        assert ranked["Capped"].reason == "over_cap"
        assert ranked["Capped"].week_hours == Decimal("1")

    def test_only_the_first_reason_is_given(self, world):
        """An absent mediator outside their hours is shown as outside availability first."""
        m = world.mediator("Twice")
        world.f.add(Absence(mediator=m, start_dt=world.start - timedelta(days=1),
                            end_dt=world.end + timedelta(days=1)))
        late = world.rank(to_utc(world.day, time(18)), to_utc(world.day, time(19)))["Twice"]
        assert late.reasons[:2] == ["unavailable", "absent"]
        assert len(late.reason_labels) == 1

    def test_language_and_coverage_come_before_the_time(self, world):
        """Who fails language or coverage is excluded for that, and their time is not read."""
        romanian = world.mediator("Romanian", languages=("ro",))
        world.f.add(Absence(mediator=romanian, start_dt=world.start - timedelta(days=1),
                            end_dt=world.end + timedelta(days=1)))
        world.booked(romanian, world.start, world.end, language=world.f.language("ro"))
        speaks = world.mediator("Speaks")
        world.booked(speaks, world.start, world.end)
        ranked = world.rank()
        assert ranked["Romanian"].reasons == ["language"]
        assert ranked["Romanian"].week_hours is None and ranked["Romanian"].conflict is None
        assert ranked["Speaks"].reasons == ["busy"]
        assert ranked["Speaks"].week_hours == Decimal("1")

    @pytest.mark.parametrize("day", ["2027-03-29", "2026-10-26"])
    def test_dst_weeks(self, world, day):
        """08:00 stays 08:00 in the week daylight saving time starts or ends."""
        world.mediator("Amal")
        monday = datetime.fromisoformat(day).date()
        ranked = world.rank(to_utc(monday, time(8)), to_utc(monday, time(9)))
        assert ranked["Amal"].available
        ranked = world.rank(to_utc(monday, time(7)), to_utc(monday, time(8)))
        assert ranked["Amal"].reason == "unavailable"


class TestScore:
    def factor(self, ranked, code):
        return next((f for f in ranked.factors if f.code == code), None)

    def test_continuity_weighs_most(self, world):
        """Worked with this pupil > worked at this school > never been there."""
        case = world.f.add(PupilCase(school=world.b.school, code="P1", class_name="1A",
                                     cycle=Cycle.primaria))
        world.request.pupil_case = case
        pupil, school = world.mediator("Pupil"), world.mediator("School")
        world.mediator("New")
        past = utcnow() - timedelta(days=60)
        world.booked(pupil, past, past + timedelta(hours=1), pupil_case=case)
        world.booked(school, past, past + timedelta(hours=1))
        ranked = world.rank()
        assert self.factor(ranked["Pupil"], "continuity").points == 40
        assert self.factor(ranked["School"], "continuity").points == 20
        assert self.factor(ranked["New"], "continuity") is None
        order = [name for name in ranked if name in ("Pupil", "School", "New")]
        assert order == ["Pupil", "School", "New"]

    def test_fair_workload(self, world):
        """Fewer hours booked this month against the contract score higher."""
        busy, _idle = world.mediator("Busy"), world.mediator("Idle")
        for days in (1, 2, 3):
            when = to_utc(world.day + timedelta(days=days), time(9))
            if when.month == world.start.month:
                world.booked(busy, when, when + timedelta(hours=2))
        ranked = world.rank()
        assert self.factor(ranked["Idle"], "workload").points == 20
        if ranked["Busy"].month_hours:
            assert self.factor(ranked["Busy"], "workload").points < 20

    def test_proximity_that_day(self, world):
        """Already at this school that day beats already in town, which beats neither."""
        here, town, away = world.mediator("Here"), world.mediator("Town"), world.mediator("Away")
        same_town = world.f.school(world.b.school.ambito, municipality=world.b.school.municipality)
        elsewhere = world.f.school(world.b.school.ambito, municipality="Codogno")
        afternoon = to_utc(world.day, time(14)), to_utc(world.day, time(15))
        world.booked(here, *afternoon)
        world.booked(town, *afternoon, school=same_town)
        world.booked(away, *afternoon, school=elsewhere)
        ranked = world.rank()
        assert self.factor(ranked["Here"], "proximity").points == 15
        assert self.factor(ranked["Town"], "proximity").points == 8
        assert self.factor(ranked["Away"], "proximity") is None

    def test_least_recently_assigned(self, world):
        """Someone who worked yesterday scores less than someone idle for a month."""
        recent, _idle = world.mediator("Recent"), world.mediator("Idle")
        yesterday = utcnow() - timedelta(days=1)
        world.booked(recent, yesterday, yesterday + timedelta(hours=1))
        ranked = world.rank()
        assert self.factor(ranked["Idle"], "recency").points == 10
        assert self.factor(ranked["Recent"], "recency").points < 1
        assert self.factor(ranked["Recent"], "recency").detail == "ultimo incarico 1 giorno fa"

    def test_weights_come_from_configuration(self, app, world):
        """MATCHING_WEIGHTS overrides a default weight."""
        world.mediator("Amal")
        app.config["MATCHING_WEIGHTS"] = {"recency": 0.0}
        assert self.factor(world.rank()["Amal"], "recency").points == 0

    def test_best_slot(self, world):
        """With two slots, the one where the best candidate scores more is suggested."""
        case = world.f.add(PupilCase(school=world.b.school, code="P2", class_name="1A",
                                     cycle=Cycle.primaria))
        world.request.pupil_case = case
        known = world.mediator("Known")
        world.mediator("Stranger")
        past = utcnow() - timedelta(days=60)
        world.booked(known, past, past + timedelta(hours=1), pupil_case=case)
        # Known is busy at slot 1, free at slot 2.
        world.booked(known, world.start, world.end)
        tuesday = world.day + timedelta(days=1)
        world.f.add(PreferredSlot(request=world.request, position=2,
                                  start_dt=to_utc(tuesday, time(10)),
                                  end_dt=to_utc(tuesday, time(11))))
        db.session.flush()
        db.session.expire(world.request, ["slots"])
        rankings, best = matching.rank_slots(world.request, world.b.coordinator)
        assert best.position == 2
        assert best.best.mediator.display_name == "Known"
        assert rankings[0].best.mediator.display_name == "Stranger"


def test_ranking_costs_the_same_with_more_mediators(app, world, count_queries):
    """rank() runs a fixed number of queries, with 3 or 30 mediators and their bookings."""
    counts = []
    for n in (3, 30):
        for i in range(n):
            m = world.mediator(f"M{n}-{i}")
            start = to_utc(world.day, time(14))
            world.booked(m, start, start + timedelta(hours=1))
        db.session.commit()
        db.session.expire_all()
        with count_queries() as counter:
            matching.rank(world.request, world.b.coordinator, world.start, world.end)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    ranges=st.lists(st.tuples(st.integers(0, 4), st.integers(7, 15), st.integers(1, 5)),
                    min_size=0, max_size=4),
    busy=st.one_of(st.none(), st.tuples(st.integers(7, 17), st.sampled_from([30, 60, 90]),
                                       st.booleans())),
    absent=st.one_of(st.none(), st.tuples(st.integers(-30, 30), st.integers(1, 30))),
    cap=st.sampled_from([Decimal("0.5"), Decimal("1"), Decimal("3"), Decimal("20")]),
    weekday=st.integers(0, 4),
    hour=st.integers(7, 18),
    minutes=st.sampled_from([15, 30, 45, 60, 90, 120]),
    whole_day=st.booleans(),
)
def test_ranked_available_means_bookable(booking, ranges, busy, absent, cap, weekday, hour,
                                         minutes, whole_day):
    """Property: ranked available ⇒ the offer goes through; ranked excluded ⇒ it is refused."""
    f = booking.factory
    mediator = booking.mediator
    mediator.weekly_hour_cap = cap
    mediator.availability.clear()
    if whole_day:  # half of the cases: available all day on the slot's weekday
        ranges = [*ranges, (weekday, 7, 13)]
    for day, start_hour, length in ranges:
        f.add(AvailabilityRange(mediator=mediator, weekday=day, start_time=time(start_hour),
                                end_time=time(min(20, start_hour + length))))
    day = monday_after(14) + timedelta(days=weekday)
    start = to_utc(day, time(hour))
    end = start + timedelta(minutes=minutes)
    if busy is not None:
        busy_start = to_utc(day, time(busy[0]))
        other_school = f.school(booking.school.ambito) if busy[2] else booking.school
        other = f.request(school=other_school, project=booking.project, type=booking.meeting,
                          state=RequestState.confirmed, site=other_school.sites[0])
        f.assignment(request=other, mediator=mediator, start=busy_start,
                     end=busy_start + timedelta(minutes=busy[1]), state=AssignmentState.accepted)
    if absent is not None:
        absence_start = start + timedelta(minutes=absent[0] * 10)
        f.add(Absence(mediator=mediator, start_dt=absence_start,
                      end_dt=absence_start + timedelta(minutes=absent[1] * 10)))
    request = f.request(school=booking.school, project=booking.project, type=booking.meeting,
                        requester=booking.teacher, state=RequestState.open,
                        site=booking.school.sites[0],
                        language=mediator.languages[0].language)
    db.session.flush()
    db.session.expire(mediator)
    standing = matching.check(request, booking.coordinator, mediator, start, end)
    event(f"reason: {standing.reason}")
    try:
        if standing.available:
            ops.offer(booking.coordinator, request, mediator, start, end)  # must not raise
        else:
            with pytest.raises((InvalidInput, SlotTaken)):
                ops.offer(booking.coordinator, request, mediator, start, end)
    finally:
        db.session.rollback()


# --- the next free times, when nobody can take the times asked for ----------------


class FreeWorld(World):
    """The World, seen on a fixed Friday at noon: the following Monday and Wednesday are
    the first days Amal (Mon 9-12, Wed 14-17) is available; the request lasts an hour."""

    def __init__(self, booking):
        super().__init__(booking)
        self.monday = monday_after(14)
        self.now = to_utc(self.monday - timedelta(days=3), time(12))
        booking.mediator.availability.clear()  # the fixture's mediator is never free
        # The factory gives every other request a project of its own, from the same day:
        # the request's starts a day later, so that it is the one running (rules.Calendar).
        booking.project.start_date += timedelta(days=1)
        self.amal = self.available("Amal", [(0, 9, 12), (2, 14, 17)])

    def available(self, name, ranges, **kw):
        m = self.mediator(name, **kw)
        m.availability.clear()
        for weekday, start, end in ranges:
            self.f.add(AvailabilityRange(mediator=m, weekday=weekday, start_time=time(start),
                                         end_time=time(end)))
        return m

    def at(self, days, hour, minute=0, minutes=60):
        start = to_utc(self.monday + timedelta(days=days), time(hour, minute))
        return start, start + timedelta(minutes=minutes)

    def free(self, weeks=2, per_mediator=4, user=None):
        db.session.flush()
        db.session.expire_all()
        openings = matching.next_free_times(self.request, user or self.b.coordinator,
                                            now=self.now, weeks=weeks,
                                            per_mediator=per_mediator)
        self.openings = openings
        return {f.mediator.display_name: f.times for f in openings.mediators}


@pytest.fixture
def free_world(booking):
    return FreeWorld(booking)


class TestNextFreeTimes:
    def test_soonest_first_one_per_range_and_day(self, free_world):
        w = free_world
        assert w.free()["Amal"] == [w.at(0, 9), w.at(2, 14), w.at(7, 9), w.at(9, 14)]
        assert w.free(per_mediator=2)["Amal"] == [w.at(0, 9), w.at(2, 14)]
        assert w.openings.first_day == w.monday - timedelta(days=2)  # from tomorrow
        assert w.openings.last_day == w.monday + timedelta(days=11)  # two weeks
        # Two ranges on a day give a time in each; a range shorter than the meeting none.
        w.available("Bilal", [(0, 9, 10), (0, 14, 16)])
        w.f.add(AvailabilityRange(mediator_id=w.amal.id, weekday=1, start_time=time(8),
                                  end_time=time(8, 45)))
        found = w.free()
        assert found["Bilal"] == [w.at(0, 9), w.at(0, 14), w.at(7, 9), w.at(7, 14)]
        assert found["Amal"][:2] == [w.at(0, 9), w.at(2, 14)]
        # The request's duration counts: 90 minutes fit from 9:00 in 9-12, not in 9-10.
        w.request.duration_minutes = 90
        assert w.free()["Bilal"] == [w.at(0, 14, minutes=90), w.at(7, 14, minutes=90)]

    def test_an_absence(self, free_world):
        """Absent Monday until 10:30: the first free hour starts at 10:30; absent all
        Wednesday: none that day."""
        w = free_world
        w.f.add(Absence(mediator=w.amal, start_dt=to_utc(w.monday, time(8)),
                        end_dt=to_utc(w.monday, time(10, 30))))
        w.f.add(Absence(mediator=w.amal, start_dt=w.at(2, 0)[0], end_dt=w.at(3, 0)[0]))
        assert w.free()["Amal"] == [w.at(0, 10, 30), w.at(7, 9), w.at(9, 14)]

    def test_a_booking_and_the_travel_buffer(self, free_world):
        """Booked 14-15 on Wednesday at another school: 15:00 leaves no time to travel
        (30 minutes), 15:30 does; at the same school 15:00 is free."""
        w = free_world
        other_school = w.f.school(w.b.school.ambito)
        w.booked(w.amal, *w.at(2, 14), school=other_school)
        assert w.free()["Amal"][1] == w.at(2, 15, 30)
        same = w.available("Same", [(2, 14, 17)])
        w.booked(same, *w.at(2, 14))
        assert w.free()["Same"][0] == w.at(2, 15)
        # A declined offer holds no time.
        declined = w.available("Declined", [(2, 14, 17)])
        w.booked(declined, *w.at(2, 14), state=AssignmentState.declined)
        assert w.free()["Declined"][0] == w.at(2, 14)

    def test_the_weekly_cap(self, free_world):
        """2.5 hours a week, 2 booked in the first week (outside the availability, which
        does not matter): no hour left that week; the next week is free."""
        w = free_world
        w.amal.weekly_hour_cap = Decimal("2.5")
        w.booked(w.amal, *w.at(1, 9, minutes=120))
        assert w.free()["Amal"] == [w.at(7, 9), w.at(9, 14)]
        w.amal.weekly_hour_cap = Decimal("3")
        assert w.free()["Amal"] == [w.at(0, 9), w.at(2, 14), w.at(7, 9), w.at(9, 14)]

    def test_closures(self, free_world):
        """The school's own closure on Monday and a regional one (every school) on the
        next Wednesday; another school's closure does not count."""
        w = free_world
        day = w.monday
        w.f.add(Closure(school_id=w.b.school.id, name="Ponte", start_date=day, end_date=day))
        w.f.add(Closure(name="Festa", start_date=day + timedelta(days=9),
                        end_date=day + timedelta(days=9)))
        elsewhere = w.f.school(w.b.school.ambito)
        w.f.add(Closure(school_id=elsewhere.id, name="Elsewhere",
                        start_date=day + timedelta(days=2), end_date=day + timedelta(days=2)))
        assert w.free()["Amal"] == [w.at(2, 14), w.at(7, 9)]

    def test_the_project_end(self, free_world):
        """The request's project ends on the second Tuesday: nothing after it."""
        w = free_world
        w.b.project.end_date = w.monday + timedelta(days=8)
        assert w.free()["Amal"] == [w.at(0, 9), w.at(2, 14), w.at(7, 9)]

    def test_who_is_listed_and_who_is_counted(self, free_world):
        """Speakers of the language are listed (even without a free time); who does not
        speak it is counted; another Ambito's mediator is neither."""
        w = free_world
        w.available("Romanian", [(0, 9, 12)], languages=("ro",))
        w.available("Busy", [])
        w.f.mediator(ambiti=[w.f.ambito()], display_name="Elsewhere")
        found = w.free()
        never = w.b.mediator.user.display_name  # the fixture's, without availability
        assert set(found) == {"Amal", "Busy", never}
        assert list(found)[0] == "Amal"  # soonest free first, those without a time last
        assert found["Busy"] == found[never] == []
        assert w.openings.not_speaking == 1
        assert w.openings.found

    def test_each_free_time_passes_the_ranking_and_can_be_offered(self, free_world):
        """Every time found is one rank() calls available and offer() accepts."""
        w = free_world
        w.f.add(Absence(mediator=w.amal, start_dt=to_utc(w.monday, time(8)),
                        end_dt=to_utc(w.monday, time(9, 30))))
        w.booked(w.amal, *w.at(2, 14), school=w.f.school(w.b.school.ambito))
        times = w.free()["Amal"]
        assert times
        for start, end in times:
            standing = matching.check(w.request, w.b.coordinator, w.amal, start, end)
            assert standing.available, (start, standing.reasons)
        ops.offer(w.b.coordinator, w.request, w.amal, *times[0])
        db.session.rollback()


def test_next_free_times_costs_the_same_with_more_mediators(app, free_world, count_queries):
    """A fixed number of queries with 3 or 30 speakers, their bookings and absences."""
    w = free_world
    counts = []
    for n in (3, 30):
        for i in range(n):
            m = w.available(f"M{n}-{i}", [(0, 9, 12), (2, 14, 17), (4, 8, 10)])
            w.booked(m, *w.at(0, 9 + i % 3))
            w.f.add(Absence(mediator=m, start_dt=w.at(2, 0)[0], end_dt=w.at(2, 15)[0]))
        db.session.commit()
        db.session.expire_all()
        with count_queries() as counter:
            openings = matching.next_free_times(w.request, w.b.coordinator, now=w.now)
        assert sum(1 for f in openings.mediators if f.times) > n
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
