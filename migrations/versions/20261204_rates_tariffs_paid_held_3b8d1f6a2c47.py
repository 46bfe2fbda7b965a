"""mediator rates, translation tariffs, paid and held totals

Issue #18 (figures an auditor signs). A session cost the mediator's hourly cost as it is
today (mediator_profiles.hourly_cost), so changing it rewrote past quarters; translations
cost nothing; the running totals did not tell sessions held from no-shows.

- mediator_rates (mediator, hourly_cost, valid_from, valid_from_dt = that Europe/Rome day's
  first instant in UTC): backfilled with one row per mediator, their hourly_cost valid from
  2000-01-01 (before any session); mediator_profiles.hourly_cost goes (one source of truth:
  the current rate is the latest row).
- translation_tariffs (project, page_cost, valid_from, valid_from_dt): empty (translations
  keep costing nothing until the admin gives a tariff).
- session_logs.rate_id (sessions with a start: the rate valid when they started) and
  tariff_id (translations: the tariff valid on their deadline), backfilled: every log with
  a start gets its mediator's only rate.
- approved_session_totals is rebuilt with the rate and tariff in its key (0 for none) and
  pages, held_sessions and held_seconds beside sessions and seconds; its triggers watch
  rate_id, tariff_id, pages and outcome too (the SQL of mediation/models/totals.py on
  2026-12-04).

Revision ID: 3b8d1f6a2c47
Revises: 75299fa49fcf
Create Date: 2026-12-04 11:50:00

"""
import importlib.util
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

from mediation.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = '3b8d1f6a2c47'
down_revision = '75299fa49fcf'
branch_labels = None
depends_on = None

EARLIEST = date(2000, 1, 1)

TOTALS_POSTGRESQL = [
    """CREATE FUNCTION session_logs_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.state = 'approved' THEN
            UPDATE approved_session_totals
            SET sessions = sessions - 1, seconds = seconds - COALESCE(round(extract(epoch FROM OLD.actual_end_dt - OLD.actual_start_dt)), 0), pages = pages - COALESCE(OLD.pages, 0), held_sessions = held_sessions - CASE WHEN OLD.outcome = 'held' THEN 1 ELSE 0 END, held_seconds = held_seconds - CASE WHEN OLD.outcome = 'held' THEN COALESCE(round(extract(epoch FROM OLD.actual_end_dt - OLD.actual_start_dt)), 0) ELSE 0 END
            WHERE project_id = OLD.project_id AND macro_action_id = OLD.macro_action_id AND school_id = OLD.school_id AND mediator_id = OLD.mediator_id AND rate_id = COALESCE(OLD.rate_id, 0) AND tariff_id = COALESCE(OLD.tariff_id, 0);
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.state = 'approved' THEN
            INSERT INTO approved_session_totals AS t (project_id, macro_action_id, school_id, mediator_id, rate_id, tariff_id, sessions, seconds, pages, held_sessions, held_seconds)
            VALUES (NEW.project_id, NEW.macro_action_id, NEW.school_id, NEW.mediator_id, COALESCE(NEW.rate_id, 0), COALESCE(NEW.tariff_id, 0), 1, COALESCE(round(extract(epoch FROM NEW.actual_end_dt - NEW.actual_start_dt)), 0), COALESCE(NEW.pages, 0), CASE WHEN NEW.outcome = 'held' THEN 1 ELSE 0 END, CASE WHEN NEW.outcome = 'held' THEN COALESCE(round(extract(epoch FROM NEW.actual_end_dt - NEW.actual_start_dt)), 0) ELSE 0 END)
            ON CONFLICT (project_id, macro_action_id, school_id, mediator_id, rate_id, tariff_id) DO UPDATE
            SET sessions = t.sessions + EXCLUDED.sessions, seconds = t.seconds + EXCLUDED.seconds, pages = t.pages + EXCLUDED.pages, held_sessions = t.held_sessions + EXCLUDED.held_sessions, held_seconds = t.held_seconds + EXCLUDED.held_seconds;
        END IF;
    END IF;
    RETURN NULL;
END
$$""",
    """CREATE TRIGGER session_logs_totals
    AFTER INSERT OR DELETE OR UPDATE OF state, project_id, macro_action_id, school_id, mediator_id, actual_start_dt, actual_end_dt, rate_id, tariff_id, pages, outcome ON session_logs
    FOR EACH ROW EXECUTE FUNCTION session_logs_totals()""",
]

TOTALS_SQLITE = [
    """CREATE TRIGGER session_logs_totals_insert AFTER INSERT ON session_logs
    BEGIN
        INSERT INTO approved_session_totals (project_id, macro_action_id, school_id, mediator_id, rate_id, tariff_id, sessions, seconds, pages, held_sessions, held_seconds)
        SELECT NEW.project_id, NEW.macro_action_id, NEW.school_id, NEW.mediator_id, COALESCE(NEW.rate_id, 0), COALESCE(NEW.tariff_id, 0), 1, COALESCE(CAST(strftime('%s', NEW.actual_end_dt) AS INTEGER) - CAST(strftime('%s', NEW.actual_start_dt) AS INTEGER), 0), COALESCE(NEW.pages, 0), CASE WHEN NEW.outcome = 'held' THEN 1 ELSE 0 END, CASE WHEN NEW.outcome = 'held' THEN COALESCE(CAST(strftime('%s', NEW.actual_end_dt) AS INTEGER) - CAST(strftime('%s', NEW.actual_start_dt) AS INTEGER), 0) ELSE 0 END
        WHERE NEW.state = 'approved'
        ON CONFLICT (project_id, macro_action_id, school_id, mediator_id, rate_id, tariff_id) DO UPDATE
        SET sessions = approved_session_totals.sessions + EXCLUDED.sessions, seconds = approved_session_totals.seconds + EXCLUDED.seconds, pages = approved_session_totals.pages + EXCLUDED.pages, held_sessions = approved_session_totals.held_sessions + EXCLUDED.held_sessions, held_seconds = approved_session_totals.held_seconds + EXCLUDED.held_seconds;
    END""",
    """CREATE TRIGGER session_logs_totals_update AFTER UPDATE OF state, project_id, macro_action_id, school_id, mediator_id, actual_start_dt, actual_end_dt, rate_id, tariff_id, pages, outcome ON session_logs
    BEGIN
        UPDATE approved_session_totals
        SET sessions = sessions - 1, seconds = seconds - COALESCE(CAST(strftime('%s', OLD.actual_end_dt) AS INTEGER) - CAST(strftime('%s', OLD.actual_start_dt) AS INTEGER), 0), pages = pages - COALESCE(OLD.pages, 0), held_sessions = held_sessions - CASE WHEN OLD.outcome = 'held' THEN 1 ELSE 0 END, held_seconds = held_seconds - CASE WHEN OLD.outcome = 'held' THEN COALESCE(CAST(strftime('%s', OLD.actual_end_dt) AS INTEGER) - CAST(strftime('%s', OLD.actual_start_dt) AS INTEGER), 0) ELSE 0 END
        WHERE OLD.state = 'approved' AND project_id = OLD.project_id AND macro_action_id = OLD.macro_action_id AND school_id = OLD.school_id AND mediator_id = OLD.mediator_id AND rate_id = COALESCE(OLD.rate_id, 0) AND tariff_id = COALESCE(OLD.tariff_id, 0);
        INSERT INTO approved_session_totals (project_id, macro_action_id, school_id, mediator_id, rate_id, tariff_id, sessions, seconds, pages, held_sessions, held_seconds)
        SELECT NEW.project_id, NEW.macro_action_id, NEW.school_id, NEW.mediator_id, COALESCE(NEW.rate_id, 0), COALESCE(NEW.tariff_id, 0), 1, COALESCE(CAST(strftime('%s', NEW.actual_end_dt) AS INTEGER) - CAST(strftime('%s', NEW.actual_start_dt) AS INTEGER), 0), COALESCE(NEW.pages, 0), CASE WHEN NEW.outcome = 'held' THEN 1 ELSE 0 END, CASE WHEN NEW.outcome = 'held' THEN COALESCE(CAST(strftime('%s', NEW.actual_end_dt) AS INTEGER) - CAST(strftime('%s', NEW.actual_start_dt) AS INTEGER), 0) ELSE 0 END
        WHERE NEW.state = 'approved'
        ON CONFLICT (project_id, macro_action_id, school_id, mediator_id, rate_id, tariff_id) DO UPDATE
        SET sessions = approved_session_totals.sessions + EXCLUDED.sessions, seconds = approved_session_totals.seconds + EXCLUDED.seconds, pages = approved_session_totals.pages + EXCLUDED.pages, held_sessions = approved_session_totals.held_sessions + EXCLUDED.held_sessions, held_seconds = approved_session_totals.held_seconds + EXCLUDED.held_seconds;
    END""",
    """CREATE TRIGGER session_logs_totals_delete AFTER DELETE ON session_logs
    BEGIN
        UPDATE approved_session_totals
        SET sessions = sessions - 1, seconds = seconds - COALESCE(CAST(strftime('%s', OLD.actual_end_dt) AS INTEGER) - CAST(strftime('%s', OLD.actual_start_dt) AS INTEGER), 0), pages = pages - COALESCE(OLD.pages, 0), held_sessions = held_sessions - CASE WHEN OLD.outcome = 'held' THEN 1 ELSE 0 END, held_seconds = held_seconds - CASE WHEN OLD.outcome = 'held' THEN COALESCE(CAST(strftime('%s', OLD.actual_end_dt) AS INTEGER) - CAST(strftime('%s', OLD.actual_start_dt) AS INTEGER), 0) ELSE 0 END
        WHERE OLD.state = 'approved' AND project_id = OLD.project_id AND macro_action_id = OLD.macro_action_id AND school_id = OLD.school_id AND mediator_id = OLD.mediator_id AND rate_id = COALESCE(OLD.rate_id, 0) AND tariff_id = COALESCE(OLD.tariff_id, 0);
    END""",
]

TOTALS_REBUILD = {
    'postgresql': """INSERT INTO approved_session_totals (project_id, macro_action_id, school_id, mediator_id, rate_id, tariff_id, sessions, seconds, pages, held_sessions, held_seconds)
SELECT project_id, macro_action_id, school_id, mediator_id, COALESCE(rate_id, 0),
       COALESCE(tariff_id, 0), count(*), sum(COALESCE(round(extract(epoch FROM session_logs.actual_end_dt - session_logs.actual_start_dt)), 0)),
       sum(COALESCE(pages, 0)), sum(CASE WHEN session_logs.outcome = 'held' THEN 1 ELSE 0 END),
       sum(CASE WHEN session_logs.outcome = 'held' THEN COALESCE(round(extract(epoch FROM session_logs.actual_end_dt - session_logs.actual_start_dt)), 0) ELSE 0 END)
FROM session_logs WHERE state = 'approved'
GROUP BY project_id, macro_action_id, school_id, mediator_id, COALESCE(rate_id, 0),
         COALESCE(tariff_id, 0)""",
    'sqlite': """INSERT INTO approved_session_totals (project_id, macro_action_id, school_id, mediator_id, rate_id, tariff_id, sessions, seconds, pages, held_sessions, held_seconds)
SELECT project_id, macro_action_id, school_id, mediator_id, COALESCE(rate_id, 0),
       COALESCE(tariff_id, 0), count(*), sum(COALESCE(CAST(strftime('%s', session_logs.actual_end_dt) AS INTEGER) - CAST(strftime('%s', session_logs.actual_start_dt) AS INTEGER), 0)),
       sum(COALESCE(pages, 0)), sum(CASE WHEN session_logs.outcome = 'held' THEN 1 ELSE 0 END),
       sum(CASE WHEN session_logs.outcome = 'held' THEN COALESCE(CAST(strftime('%s', session_logs.actual_end_dt) AS INTEGER) - CAST(strftime('%s', session_logs.actual_start_dt) AS INTEGER), 0) ELSE 0 END)
FROM session_logs WHERE state = 'approved'
GROUP BY project_id, macro_action_id, school_id, mediator_id, COALESCE(rate_id, 0),
         COALESCE(tariff_id, 0)""",
}

DROP_TRIGGERS = {
    'postgresql': ['DROP TRIGGER IF EXISTS session_logs_totals ON session_logs',
                   'DROP FUNCTION IF EXISTS session_logs_totals()'],
    'sqlite': [f'DROP TRIGGER IF EXISTS session_logs_totals_{name}'
               for name in ('insert', 'update', 'delete')],
}


def _previous():
    """The revision that created the totals (its triggers and rebuild, for the downgrade)."""
    path = Path(__file__).with_name('20261130_session_log_reporting_copies_25287a4dd3c4.py')
    spec = importlib.util.spec_from_file_location('totals_25287a4dd3c4', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dated_table(name, owner, owner_table, amount):
    op.create_table(
        name,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column(owner, sa.Integer(), nullable=False),
        sa.Column(amount, sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_from_dt', UTCDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_dt', UTCDateTime(), nullable=False),
        sa.CheckConstraint(f'{amount} >= 0', name=op.f(f'ck_{name}_cost_not_negative')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f(f'fk_{name}_created_by_id_users')),
        sa.ForeignKeyConstraint([owner], [f'{owner_table}.id'],
                                name=op.f(f'fk_{name}_{owner}_{owner_table}')),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
        sa.UniqueConstraint(owner, 'valid_from', name=f'uq_{name}_day'),
    )


def _totals_table(*columns, key=()):
    op.create_table(
        'approved_session_totals',
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('macro_action_id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('mediator_id', sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(['macro_action_id'], ['macro_actions.id'],
                                name=op.f('fk_approved_session_totals_macro_action_id_macro_actions')),
        sa.ForeignKeyConstraint(['mediator_id'], ['mediator_profiles.id'],
                                name=op.f('fk_approved_session_totals_mediator_id_mediator_profiles')),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_approved_session_totals_project_id_projects')),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id'],
                                name=op.f('fk_approved_session_totals_school_id_schools')),
        sa.PrimaryKeyConstraint('project_id', 'macro_action_id', 'school_id', 'mediator_id',
                                *key, name=op.f('pk_approved_session_totals')),
    )


def upgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    # First: SQLite's batch mode rebuilds session_logs below, without its triggers.
    for statement in DROP_TRIGGERS[dialect]:
        op.execute(statement)
    _dated_table('mediator_rates', 'mediator_id', 'mediator_profiles', 'hourly_cost')
    _dated_table('translation_tariffs', 'project_id', 'projects', 'page_cost')

    rates = sa.table('mediator_rates', sa.column('mediator_id', sa.Integer()),
                     sa.column('hourly_cost', sa.Numeric(8, 2)),
                     sa.column('valid_from', sa.Date()),
                     sa.column('valid_from_dt', UTCDateTime()),
                     sa.column('created_dt', UTCDateTime()))
    start = datetime.combine(EARLIEST, time.min, tzinfo=ZoneInfo('Europe/Rome'))
    now = datetime.now(UTC)
    profiles = bind.execute(sa.text('SELECT id, hourly_cost FROM mediator_profiles ORDER BY id'))
    op.bulk_insert(rates, [{'mediator_id': mediator_id, 'hourly_cost': cost,
                            'valid_from': EARLIEST, 'valid_from_dt': start, 'created_dt': now}
                           for mediator_id, cost in profiles.all()])

    with op.batch_alter_table('session_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rate_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('tariff_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_session_logs_rate_id_mediator_rates'),
                                    'mediator_rates', ['rate_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_session_logs_tariff_id_translation_tariffs'),
                                    'translation_tariffs', ['tariff_id'], ['id'])
    # Each mediator has one rate so far: every log with a start gets it.
    op.execute('UPDATE session_logs SET rate_id = (SELECT r.id FROM mediator_rates AS r'
               ' WHERE r.mediator_id = session_logs.mediator_id)'
               ' WHERE actual_start_dt IS NOT NULL')

    op.drop_table('approved_session_totals')
    _totals_table(
        sa.Column('rate_id', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('tariff_id', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('sessions', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.BigInteger(), nullable=False),
        sa.Column('pages', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
        sa.Column('held_sessions', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('held_seconds', sa.BigInteger(), server_default=sa.text('0'),
                  nullable=False),
        key=('rate_id', 'tariff_id'),
    )
    op.execute(TOTALS_REBUILD[dialect])
    for statement in {'postgresql': TOTALS_POSTGRESQL, 'sqlite': TOTALS_SQLITE}[dialect]:
        op.execute(statement)

    with op.batch_alter_table('mediator_profiles', schema=None) as batch_op:
        batch_op.drop_column('hourly_cost')


def downgrade():
    dialect = op.get_bind().dialect.name
    previous = _previous()
    with op.batch_alter_table('mediator_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hourly_cost', sa.Numeric(precision=8, scale=2),
                                      server_default='25', nullable=False))
    # The latest rate of each mediator becomes their hourly cost.
    op.execute('UPDATE mediator_profiles SET hourly_cost = COALESCE((SELECT r.hourly_cost'
               ' FROM mediator_rates AS r WHERE r.mediator_id = mediator_profiles.id'
               ' ORDER BY r.valid_from DESC LIMIT 1), 25)')
    with op.batch_alter_table('mediator_profiles', schema=None) as batch_op:
        batch_op.alter_column('hourly_cost', server_default=None)

    for statement in DROP_TRIGGERS[dialect]:
        op.execute(statement)
    with op.batch_alter_table('session_logs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_session_logs_tariff_id_translation_tariffs'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_session_logs_rate_id_mediator_rates'),
                                 type_='foreignkey')
        batch_op.drop_column('tariff_id')
        batch_op.drop_column('rate_id')
    op.drop_table('approved_session_totals')
    _totals_table(sa.Column('sessions', sa.Integer(), nullable=False),
                  sa.Column('seconds', sa.BigInteger(), nullable=False))
    op.execute(previous.TOTALS_REBUILD[dialect])
    for statement in {'postgresql': previous.TOTALS_POSTGRESQL,
                      'sqlite': previous.TOTALS_SQLITE}[dialect]:
        op.execute(statement)

    op.drop_table('translation_tariffs')
    op.drop_table('mediator_rates')
