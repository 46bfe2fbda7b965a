"""Translation tariffs: each project's price per translated page from a day on.

A project is the contract with the funder, so the tariff is the project's. The admin adds
a tariff from a day (Europe/Rome) on; tariffs are never edited. The day may be past: the
project's translations whose deadline is from that day on then cost the new tariff (their
``tariff_id`` is reassigned, so past figures change, and the audit trail says so).
"""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..audit import record
from ..errors import InvalidInput, NotAllowed
from ..extensions import db
from ..models import Project, Role, TranslationTariff, User
from ..models.rates import EARLIEST, day_start, reassign_tariffs

#: The highest price per page accepted (a typing error beyond it).
MAX_PAGE_COST = Decimal(1000)


def may_set_tariffs(actor: User) -> bool:
    """Only the admin: the tariff is in the contract with the funder, for every Ambito."""
    return actor.role == Role.admin


def add_tariff(actor: User, project: Project, page_cost: Decimal,
               valid_from: date) -> TranslationTariff:
    """Give the project's translations a price per page from the day ``valid_from`` on.

    :raise NotAllowed: the actor is not the admin.
    :raise InvalidInput: the price is negative or implausible (``page_cost``); the day is
        not after the latest tariff's (``valid_from``).
    """
    if not may_set_tariffs(actor):
        raise NotAllowed()
    if page_cost is None or page_cost < 0 or page_cost > MAX_PAGE_COST:
        raise InvalidInput(_l("Enter a price per page between 0 and %(max)s euros.",
                              max=MAX_PAGE_COST), field="page_cost")
    latest = db.session.scalar(sa.select(sa.func.max(TranslationTariff.valid_from))
                               .where(TranslationTariff.project_id == project.id))
    if valid_from < EARLIEST or (latest is not None and valid_from <= latest):
        raise InvalidInput(_l("Enter a day after that of the latest tariff."),
                           field="valid_from")
    tariff = TranslationTariff(project=project, page_cost=page_cost.quantize(Decimal("0.01")),
                               valid_from=valid_from, valid_from_dt=day_start(valid_from),
                               created_by=actor)
    db.session.add(tariff)
    db.session.flush()
    reassign_tariffs(project.id, tariff.valid_from_dt)
    record("project.tariff_added", project, actor, tariff_id=tariff.id,
           page_cost=str(tariff.page_cost), valid_from=valid_from.isoformat())
    return tariff
