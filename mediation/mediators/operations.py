"""Changes to a mediator's availability, absences and profile, one function each.

Like the booking operations, each function checks that the actor may do it,
changes the rows and writes the audit event in the caller's transaction; the
view commits once it returns.

Who may do what:

* the mediator themself: their weekly availability, their absences, the
  languages they speak and the municipalities they travel to;
* a coordinator of an Ambito the mediator serves, and the admin: all of that,
  plus the weekly hour cap, the Ambiti served (what the cooperative's
  contract says) and the hourly rate from a day on (:func:`add_rate`). A
  coordinator adds or removes only their own Ambito; the admin any.

Anyone else gets ``NotAllowed`` (a 404).
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..audit import record
from ..bookings.locks import lock_mediators
from ..errors import InvalidInput, NotAllowed
from ..extensions import db
from ..models import (
    ACTIVE_ASSIGNMENT_STATES,
    Absence,
    Ambito,
    Assignment,
    AvailabilityRange,
    Language,
    LanguageLevel,
    MediatorLanguage,
    MediatorMunicipality,
    MediatorProfile,
    MediatorRate,
    Role,
    User,
)
from ..models.rates import EARLIEST as EARLIEST_RATE
from ..models.rates import day_start, reassign_rates

#: Availability must lie within school hours.
EARLIEST = time(7)
LATEST = time(20)
#: Bounds of the weekly hour cap.
MIN_CAP = Decimal(1)
MAX_CAP = Decimal(60)
#: The longest absence that can be entered at once.
MAX_ABSENCE = timedelta(days=366)
REASON_MAX = 200
MUNICIPALITY_MAX = 100
MAX_MUNICIPALITIES = 100


# --- who may do it ----------------------------------------------------------


def manages(actor: User, mediator: MediatorProfile) -> bool:
    """The admin, or a coordinator of an Ambito the mediator serves."""
    if actor.role == Role.admin:
        return True
    return actor.role == Role.coordinator and any(
        a.id == actor.ambito_id for a in mediator.ambiti
    )


def is_self(actor: User, mediator: MediatorProfile) -> bool:
    """The mediator themself: their profile's languages and places are theirs to say."""
    return actor.role == Role.mediator and mediator.user_id == actor.id


def may_edit_calendar(actor: User, mediator: MediatorProfile) -> bool:
    """The mediator themself, or someone who manages them."""
    return is_self(actor, mediator) or manages(actor, mediator)


def _require(condition: bool) -> None:
    if not condition:
        raise NotAllowed()


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


# --- availability -----------------------------------------------------------


def set_availability(
    actor: User, mediator: MediatorProfile, ranges: Iterable[tuple[int, time, time]]
) -> list[AvailabilityRange]:
    """Replace the mediator's weekly pattern with ``ranges`` (weekday, start, end).

    Times are Europe/Rome wall-clock times.

    :raise InvalidInput: with ``field`` ``weekday_<n>`` for a range of weekday n
        that is empty, outside 07:00–20:00 or overlapping another one that day.
    """
    _require(may_edit_calendar(actor, mediator))
    # What the booking rules read changes: not while a booking of theirs checks it.
    lock_mediators(mediator)
    ranges = sorted(ranges)
    for weekday, start, end in ranges:
        field = f"weekday_{weekday}"
        if not 0 <= weekday <= 6:
            raise InvalidInput(_l("Choose a day of the week."), field="weekdays")
        if start >= end:
            raise InvalidInput(_l("A range must end after it starts."), field=field)
        if start < EARLIEST or end > LATEST:
            raise InvalidInput(
                _l("Availability must lie between %(earliest)s and %(latest)s.",
                   earliest=_clock(EARLIEST), latest=_clock(LATEST)),
                field=field,
            )
    for (day_a, _start_a, end_a), (day_b, start_b, _end_b) in zip(ranges, ranges[1:], strict=False):
        if day_a == day_b and start_b < end_a:
            raise InvalidInput(_l("The ranges of one day must not overlap."),
                               field=f"weekday_{day_a}")
    new = [AvailabilityRange(weekday=d, start_time=s, end_time=e) for d, s, e in ranges]
    # delete-orphan removes the old ranges when the flush runs.
    mediator.availability = new
    db.session.flush()
    record("mediator.availability_changed", mediator, actor,
           ranges=[[d, _clock(s), _clock(e)] for d, s, e in ranges])
    return new


# --- absences ---------------------------------------------------------------


def overlapping_assignments(mediator: MediatorProfile, start: datetime,
                            end: datetime) -> list[Assignment]:
    """The mediator's active assignments during [start, end): meetings, and deadlines."""
    return list(db.session.scalars(
        sa.select(Assignment).where(
            Assignment.mediator_id == mediator.id,
            Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES),
            sa.or_(
                sa.and_(Assignment.start_dt < end, Assignment.end_dt > start),
                sa.and_(Assignment.deadline_dt >= start, Assignment.deadline_dt < end),
            ),
        ).order_by(sa.func.coalesce(Assignment.start_dt, Assignment.deadline_dt))
    ))


def add_absence(actor: User, mediator: MediatorProfile, start_dt: datetime,
                end_dt: datetime, reason: str | None = None) -> list[Assignment]:
    """Record that the mediator cannot be booked from ``start_dt`` to ``end_dt`` (aware).

    An absence may span midnight and several days. It is not refused when the
    mediator already has appointments then: those active assignments are
    returned, so that the caller can ask the coordinator to reassign them.

    :raise InvalidInput: the end is not after the start (``end``), the absence
        is longer than a year (``end``), the reason is too long (``reason``).
    """
    _require(may_edit_calendar(actor, mediator))
    # What the booking rules read changes: not while a booking of theirs checks it.
    lock_mediators(mediator)
    if start_dt.tzinfo is None or end_dt.tzinfo is None:
        raise ValueError("absence times must be aware datetimes")
    if end_dt <= start_dt:
        raise InvalidInput(_l("The absence must end after it starts."), field="end")
    if end_dt - start_dt > MAX_ABSENCE:
        raise InvalidInput(_l("Enter an absence of at most one year at a time."),
                           field="end")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > REASON_MAX:
        raise InvalidInput(_l("At most %(count)d characters.", count=REASON_MAX),
                           field="reason")
    absence = Absence(mediator=mediator, start_dt=start_dt, end_dt=end_dt, reason=reason)
    db.session.add(absence)
    db.session.flush()
    conflicts = overlapping_assignments(mediator, start_dt, end_dt)
    # The reason is free text: it stays out of the audit trail.
    record("mediator.absence_added", mediator, actor, absence_id=absence.id,
           start=start_dt.isoformat(), end=end_dt.isoformat(),
           overlapping_assignment_ids=[a.id for a in conflicts])
    return conflicts


def remove_absence(actor: User, absence: Absence) -> None:
    """Delete an absence: the mediator can be booked then again."""
    mediator = absence.mediator
    _require(may_edit_calendar(actor, mediator))
    data = {"absence_id": absence.id, "start": absence.start_dt.isoformat(),
            "end": absence.end_dt.isoformat()}
    mediator.absences.remove(absence)
    db.session.delete(absence)
    db.session.flush()
    record("mediator.absence_removed", mediator, actor, **data)


# --- hourly rate ------------------------------------------------------------

#: The highest hourly rate accepted (a typing error beyond it).
MAX_RATE = Decimal(1000)


def add_rate(actor: User, mediator: MediatorProfile, hourly_cost: Decimal,
             valid_from) -> MediatorRate:
    """Give the mediator a new hourly rate from the day ``valid_from`` (Europe/Rome) on.

    Rates are never edited: each applies until the next one's day. The day may be past:
    the sessions that count from it on then cost the new rate (their ``rate_id`` is
    reassigned, so the past figures change, and the audit trail says when and by whom).

    :raise InvalidInput: the rate is negative or implausible (``hourly_cost``); the day
        is not after the latest rate's (``valid_from``).
    """
    _require(manages(actor, mediator))
    if hourly_cost is None or hourly_cost < 0 or hourly_cost > MAX_RATE:
        raise InvalidInput(_l("Enter an hourly rate between 0 and %(max)s euros.",
                              max=MAX_RATE), field="hourly_cost")
    latest = db.session.scalar(sa.select(sa.func.max(MediatorRate.valid_from))
                               .where(MediatorRate.mediator_id == mediator.id))
    if valid_from < EARLIEST_RATE or (latest is not None and valid_from <= latest):
        raise InvalidInput(_l("Enter a day after that of the latest rate."),
                           field="valid_from")
    rate = MediatorRate(mediator=mediator, hourly_cost=hourly_cost.quantize(Decimal("0.01")),
                        valid_from=valid_from, valid_from_dt=day_start(valid_from),
                        created_by=actor)
    db.session.add(rate)
    db.session.flush()
    reassign_rates(mediator.id, rate.valid_from_dt)
    # The amount is on the rate's own row (never edited), with who entered it and when.
    record("mediator.rate_added", mediator, actor, rate_id=rate.id,
           valid_from=valid_from.isoformat())
    return rate


# --- profile ----------------------------------------------------------------


def clean_municipalities(names: Iterable[str]) -> list[str]:
    """Trimmed, without blanks and without duplicates (ignoring case), in the given order."""
    seen: set[str] = set()
    result = []
    for name in names:
        name = " ".join((name or "").split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            result.append(name)
    return result


def set_profile(
    actor: User,
    mediator: MediatorProfile,
    weekly_hour_cap: Decimal,
    languages: Sequence[tuple[int, LanguageLevel | str]],
    ambito_ids: Iterable[int],
    municipalities: Iterable[str],
) -> None:
    """Change what the coordinator matches on: cap, languages, Ambiti, municipalities.

    Only the admin and coordinators of an Ambito the mediator serves may. A
    coordinator may add or remove only their own Ambito: ``ambito_ids`` must
    keep the other Ambiti as they are.

    :raise InvalidInput: ``weekly_hour_cap``, ``languages``, ``ambiti`` or
        ``municipalities``, with a message for the person.
    """
    _require(manages(actor, mediator))
    # What the booking rules read changes: not while a booking of theirs checks it.
    lock_mediators(mediator)
    cap = Decimal(weekly_hour_cap)
    if not MIN_CAP <= cap <= MAX_CAP:
        raise InvalidInput(
            _l("Enter a number of hours between %(low)s and %(high)s.",
               low=int(MIN_CAP), high=int(MAX_CAP)),
            field="weekly_hour_cap",
        )

    wanted_languages = _checked_languages(languages)

    wanted_ambiti = set(ambito_ids)
    current_ambiti = {a.id for a in mediator.ambiti}
    if not wanted_ambiti:
        raise InvalidInput(_l("A mediator serves at least one Ambito."), field="ambiti")
    if actor.role == Role.coordinator and (
        wanted_ambiti ^ current_ambiti
    ) - {actor.ambito_id}:
        raise InvalidInput(_l("You can add or remove only your own Ambito."),
                           field="ambiti")
    ambiti = list(db.session.scalars(
        sa.select(Ambito).where(Ambito.id.in_(list(wanted_ambiti))).order_by(Ambito.name)
    ))
    if len(ambiti) != len(wanted_ambiti):
        raise InvalidInput(_l("Choose an Ambito from the list."), field="ambiti")

    names = _checked_municipalities(municipalities)

    mediator.weekly_hour_cap = cap
    mediator.ambiti = ambiti
    _apply(mediator, wanted_languages, names)
    record(
        "mediator.profile_changed", mediator, actor,
        weekly_hour_cap=str(cap),
        languages=sorted([ml.language_id, ml.level.value] for ml in mediator.languages),
        ambito_ids=sorted(a.id for a in ambiti),
        municipalities=sorted(m.municipality for m in mediator.municipalities),
    )


def set_own_profile(
    actor: User,
    mediator: MediatorProfile,
    languages: Sequence[tuple[int, LanguageLevel | str]],
    municipalities: Iterable[str],
) -> None:
    """The mediator's own part of the profile: the languages they speak (with their
    level) and the municipalities they travel to. The cap and the Ambiti stay with
    the coordinator.

    :raise InvalidInput: ``languages`` or ``municipalities``.
    """
    _require(is_self(actor, mediator))
    # What the booking rules read changes: not while a booking of theirs checks it.
    lock_mediators(mediator)
    wanted_languages = _checked_languages(languages)
    names = _checked_municipalities(municipalities)
    _apply(mediator, wanted_languages, names)
    record(
        "mediator.profile_changed", mediator, actor,
        languages=sorted([ml.language_id, ml.level.value] for ml in mediator.languages),
        municipalities=sorted(m.municipality for m in mediator.municipalities),
    )


def _checked_languages(
    languages: Sequence[tuple[int, LanguageLevel | str]],
) -> dict[int, LanguageLevel]:
    wanted: dict[int, LanguageLevel] = {}
    for language_id, level in languages:
        if language_id in wanted:
            raise InvalidInput(_l("Each language may be listed once."), field="languages")
        try:
            wanted[language_id] = LanguageLevel(level)
        except ValueError:
            raise InvalidInput(_l("Choose a level."), field="languages") from None
    if not wanted:
        raise InvalidInput(_l("Give at least one language."), field="languages")
    known = set(db.session.scalars(sa.select(Language.id).where(Language.id.in_(list(wanted)))))
    if known != set(wanted):
        raise InvalidInput(_l("Choose a language from the list."), field="languages")
    return wanted


def _checked_municipalities(municipalities: Iterable[str]) -> list[str]:
    names = clean_municipalities(municipalities)
    if len(names) > MAX_MUNICIPALITIES:
        raise InvalidInput(_l("At most %(count)d municipalities.", count=MAX_MUNICIPALITIES),
                           field="municipalities")
    if any(len(name) > MUNICIPALITY_MAX for name in names):
        raise InvalidInput(
            _l("A municipality's name has at most %(count)d characters.",
               count=MUNICIPALITY_MAX),
            field="municipalities",
        )
    return names


def _apply(mediator: MediatorProfile, languages: dict[int, LanguageLevel],
           names: list[str]) -> None:
    """Set the languages and municipalities, updating rows in place: their primary keys
    are (mediator, language / municipality)."""
    languages = dict(languages)
    for row in list(mediator.languages):
        if row.language_id in languages:
            row.level = languages.pop(row.language_id)
        else:
            mediator.languages.remove(row)
    for language_id, level in languages.items():
        mediator.languages.append(MediatorLanguage(language_id=language_id, level=level))
    by_key = {name.casefold(): name for name in names}
    for row in list(mediator.municipalities):
        if row.municipality.casefold() in by_key:
            by_key.pop(row.municipality.casefold())
        else:
            mediator.municipalities.remove(row)
    db.session.flush()
    for name in by_key.values():
        mediator.municipalities.append(MediatorMunicipality(municipality=name))
    db.session.flush()
