"""session log reporting copies

The reporting dashboard read every approved session of the scope's whole history before
keeping the period's: the moment a session counts was coalesce(session_logs.actual_start_dt,
assignments.deadline_dt), across two tables, so no index served it, and every figure joined
session_logs → assignments → mediation_requests → schools (1,000,000 logs: a coordinator's
dashboard 3.7-5.1 s, the admin's 16-20 s on PostgreSQL).

Each log now carries copies of what the figures filter and group by, set by
SessionLog.copy_counting() whenever a log is written (none of them changes once a session is
logged):

- counted_dt: when the session counts (its start; a translation: the assignment's deadline);
  CHECK counted_at_start ties it to actual_start_dt;
- request_id, project_id, school_id, type_id, requester_id, pupil_case_id (from the request)
  and mediator_id (from the assignment), with their foreign keys;
- ix_session_logs_state_counted (state, counted_dt): the approved sessions of a period,
  region-wide; ix_session_logs_school_counted (school_id, state, counted_dt): those of some
  schools (an Ambito's); ix_session_logs_project_state (project_id, state): a project's
  sessions whatever their date (the budget spent so far).

Upgrade: add the columns (nullable), backfill them with one UPDATE ... FROM (SQLite 3.33+ and
PostgreSQL), then make them NOT NULL and add the foreign keys, the check and the indexes
(SQLite rebuilds the table in batch mode).

Revision ID: 25287a4dd3c4
Revises: c3e7549eddb4
Create Date: 2026-11-30 02:46:36.716160

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '25287a4dd3c4'
down_revision = 'c3e7549eddb4'
branch_labels = None
depends_on = None

#: The copied columns: (name, referenced table, nullable).
COPIES = [
    ('request_id', 'mediation_requests', False),
    ('project_id', 'projects', False),
    ('school_id', 'schools', False),
    ('mediator_id', 'mediator_profiles', False),
    ('type_id', 'request_types', False),
    ('requester_id', 'users', False),
    ('pupil_case_id', 'pupil_cases', True),
]

BACKFILL = """
UPDATE session_logs SET
    counted_dt = COALESCE(session_logs.actual_start_dt, a.deadline_dt),
    request_id = r.id,
    project_id = r.project_id,
    school_id = r.school_id,
    mediator_id = a.mediator_id,
    type_id = r.type_id,
    requester_id = r.requester_id,
    pupil_case_id = r.pupil_case_id
FROM assignments AS a
JOIN mediation_requests AS r ON r.id = a.request_id
WHERE a.id = session_logs.assignment_id
"""


def upgrade():
    with op.batch_alter_table('session_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counted_dt', sa.DateTime(timezone=True), nullable=True))
        for name, _table, _nullable in COPIES:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))

    op.execute(BACKFILL)

    with op.batch_alter_table('session_logs', schema=None) as batch_op:
        batch_op.alter_column('counted_dt', existing_type=sa.DateTime(timezone=True),
                              nullable=False)
        for name, table, nullable in COPIES:
            if not nullable:
                batch_op.alter_column(name, existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(
                batch_op.f(f'fk_session_logs_{name}_{table}'), table, [name], ['id'])
        batch_op.create_check_constraint(
            batch_op.f('ck_session_logs_counted_at_start'),
            'actual_start_dt IS NULL OR counted_dt = actual_start_dt')
        batch_op.create_index('ix_session_logs_state_counted', ['state', 'counted_dt'],
                              unique=False)
        batch_op.create_index('ix_session_logs_school_counted',
                              ['school_id', 'state', 'counted_dt'], unique=False)
        batch_op.create_index('ix_session_logs_project_state', ['project_id', 'state'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('session_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_session_logs_project_state')
        batch_op.drop_index('ix_session_logs_school_counted')
        batch_op.drop_index('ix_session_logs_state_counted')
        batch_op.drop_constraint(batch_op.f('ck_session_logs_counted_at_start'), type_='check')
        for name, table, _nullable in reversed(COPIES):
            batch_op.drop_constraint(batch_op.f(f'fk_session_logs_{name}_{table}'),
                                     type_='foreignkey')
            batch_op.drop_column(name)
        batch_op.drop_column('counted_dt')
