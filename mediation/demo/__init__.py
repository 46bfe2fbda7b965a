"""Demo data: four Ambiti of the Lab'Impact network west of Milan and in the Lodi area,
with their schools, people and pupils, and the years of work of Lab'Impact (2018-2023)
and of its successor (2024 on) at the pace of a real Ambito: hundreds of sessions a year
each, spending on track with the project's calendar, every moment in office hours.

Everything is placed around today's date, and a fixed random seed keeps the data stable
from one load to the next (for a given day). Pupils have no names here, nor anywhere
else in the application: only the pseudonymous code their school gave them.

- :mod:`.data`: places, people, languages, texts and the pace of the work;
- :mod:`.builder`: turns them into rows (bulk inserts for the many);
- :mod:`.volumes`: the figures ``flask demo`` prints and the tests check;
- :mod:`.files`: the documents of the translation requests.
"""

import sqlalchemy as sa

from ..extensions import db
from ..models import Ambito, LanguageLevel, Role, User
from ..seed import seed_reference_data
from .data import (
    ADMIN_EMAIL,
    DEMO_DOMAIN,
    FAMILY_PROFILES,
    MARKER_AMBITO,
    ROLE_ORDER,
    START_HERE,
)
from .volumes import demo_volumes

__all__ = ["FAMILY_PROFILES", "START_HERE", "demo_logins", "demo_volumes", "load_demo"]


def load_demo(password: str = "demo", now=None) -> list[tuple[str, str, str]]:
    """Load the demo data unless it is already there, and return its logins.

    Reference data is seeded first (see :func:`mediation.seed.seed_reference_data`).
    Every demo user gets ``password``. The caller commits.

    :return: (role, email, description) of every demo user.
    """
    from datetime import UTC, datetime

    from .builder import _DemoBuilder

    seed_reference_data()
    if db.session.scalar(sa.select(Ambito.id).filter_by(code=MARKER_AMBITO)) is None:
        _DemoBuilder(password, now or datetime.now(UTC)).build()
    return demo_logins()


def demo_logins() -> list[tuple[str, str, str]]:
    """Return (role, email, description) of the demo users in the database."""
    users = list(
        db.session.scalars(
            sa.select(User).where(
                sa.or_(User.email == ADMIN_EMAIL, User.email.like(f"%@{DEMO_DOMAIN}"))
            )
        )
    )
    order = list(ROLE_ORDER)

    def sort_key(user: User) -> tuple:
        ambito = user.ambito or (user.school.ambito if user.school else None)
        return (
            order.index(user.role),
            ambito.code if ambito else "",
            user.school.code if user.school else "",
            user.email,
        )

    return [(u.role.value, u.email, _describe(u)) for u in sorted(users, key=sort_key)]


def _describe(user: User) -> str:
    if user.role == Role.admin:
        return "Regione Lombardia, capofila: every Ambito"
    if user.role == Role.coordinator:
        return f"{user.ambito.name} – {user.ambito.lead_agency}"
    if user.role in (Role.lead, Role.teacher):
        school = user.school
        text = f"{school.name} ({school.code}), {school.municipality}"
        if user.role == Role.lead and school.requires_lead_approval:
            text += " – approves the school's requests"
        if user.locale == "en":
            text += " – uses the English interface"
        return text
    profile = user.mediator_profile
    levels = list(LanguageLevel)
    rows = sorted(profile.languages, key=lambda r: (levels.index(r.level), r.language.code))
    languages = ", ".join(row.language.name_en for row in rows)
    served = sorted(profile.ambiti, key=lambda a: (a.id != user.ambito_id, a.name))
    served = ", ".join(a.name for a in served)
    return f"{languages} – {profile.employer} – serves {served}"
