"""Serialising the writes that book a mediator, per mediator.

The database itself refuses two overlapping active assignments of one mediator
(rule 1 of docs/design.md). The other rules of a booking are checked in Python, by
reading the mediator's other assignments, absences, availability and hour cap
(``matching.check``): the weekly hour cap, the travel buffer between two places,
absences, availability. Two transactions checking the same mediator at the same
moment would each see the mediator without the other's booking, and both pass:
two non-overlapping offers could together exceed the weekly cap, two offers at
two schools too close in time to travel between could both stand.

So every write that books a mediator (``offer``, ``reassign``, ``offer_series``,
``accept_invitation`` (the first mediator to accept an offer sent to several), and
through ``offer`` the acceptance of a time a mediator proposed) calls
:func:`lock_mediators` BEFORE it checks those rules, in the same transaction;
so do the writes that change what the rules read (absences, availability, the
hour cap). A second booking of the same mediator waits until the first commits
or rolls back, then checks against what it committed.

- PostgreSQL: ``SELECT ... FOR NO KEY UPDATE`` on the mediator's profile row. It
  conflicts with itself (and with an UPDATE of the profile) but not with the
  ``FOR KEY SHARE`` that inserting a row referencing the profile takes, so other
  writes touching the mediator's rows are not held up. Read committed: every
  statement after the lock sees what the previous holder committed, so the
  checks run after this call read fresh data (they read with Core statements,
  not from the session's identity map).
- SQLite: every transaction begins with ``BEGIN IMMEDIATE`` (``database._on_begin``),
  so a write transaction already holds the database's single write lock from its
  first statement: all writers are serialised, and the statement here is a
  plain read (SQLite has no ``FOR UPDATE``).

Deadlocks: the requests a write changes are locked first (``operations._lock``;
a series locks its weeks in id order), then the mediators, in id order, in one
statement. No write locks a mediator and then a request it had not locked before.
"""

import sqlalchemy as sa

from ..extensions import db
from ..models import MediatorProfile

#: ``db.session.info`` key: the transaction and the ids of the mediators locked in it.
_LOCKED = "mediation.locked_mediators"


def lock_mediators(*mediators: MediatorProfile | int) -> None:
    """Hold the booking lock of these mediators until the transaction ends.

    Call it before reading anything a booking rule depends on. Calling it again in
    the same transaction for a mediator already locked costs nothing.
    """
    ids = {m if isinstance(m, int) else m.id for m in mediators}
    session = db.session()
    transaction = session.get_transaction()
    held = session.info.get(_LOCKED)
    if held is None or held[0] is not transaction:
        held = session.info[_LOCKED] = (transaction, set())
    wanted = sorted(ids - held[1])
    if not wanted:
        return
    # One statement, in id order: PostgreSQL locks the rows as the sorted rows come out.
    db.session.execute(
        sa.select(MediatorProfile.id)
        .where(MediatorProfile.id.in_(wanted))
        .order_by(MediatorProfile.id)
        .with_for_update(key_share=True)
    ).all()
    # The transaction may only now have begun (the first statement begins it).
    transaction = session.get_transaction()
    if held[0] is not transaction:
        held = session.info[_LOCKED] = (transaction, set())
    held[1].update(wanted)
