"""first offer on requests, project on assignments

The admin's dashboard (the whole region, 1,000,000 logs) still took 1.5-4 s on PostgreSQL;
two of its costs were joins that a copy removes:

- mediation_requests.first_offered_dt: the earliest offered_dt of the request's
  assignments, kept by the trigger assignments_first_offer on every new assignment (see
  mediation/models/derived.py). The time to first offer read every request of the period
  joined with all its assignments (245,000 requests a year for the region); it now reads
  the requests' indexes alone: ix_mediation_requests_created (created_dt, state,
  first_offered_dt), which replaces ix_mediation_requests_created_dt, and
  ix_mediation_requests_school_created, which gains first_offered_dt.
- assignments.project_id: a copy of the request's project (a request's project never
  changes once filed; set by the application before every insert). The end-date warning
  scanned every active booking after the earliest project end (half a million accepted
  assignments for a project that ended two years ago) with its request; it now reads a
  few ranges of ix_assignments_project_state_start (project_id, state, start_dt,
  deadline_dt) per project.

SQLite cannot add a NOT NULL column with a foreign key in place: the column is added with a
DEFAULT 0 that the backfill replaces (0 is no project: the foreign key refuses any row left
with it), which SQLite accepts only with its foreign keys off (migrations/env.py turns them
off for every migration and runs PRAGMA foreign_key_check before committing). PostgreSQL
adds it nullable, backfills, then sets NOT NULL.

Revision ID: 4f1c2a7d9e30
Revises: 25287a4dd3c4
Create Date: 2026-11-30 05:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4f1c2a7d9e30'
down_revision = '25287a4dd3c4'
branch_labels = None
depends_on = None

BACKFILL_PROJECT = {
    'postgresql': """UPDATE assignments SET project_id = r.project_id
FROM mediation_requests AS r WHERE r.id = assignments.request_id""",
    'sqlite': """UPDATE assignments SET project_id = (
    SELECT r.project_id FROM mediation_requests AS r WHERE r.id = assignments.request_id)""",
}

BACKFILL_FIRST_OFFER = {
    'postgresql': """UPDATE mediation_requests SET first_offered_dt = a.first
FROM (SELECT request_id, min(offered_dt) AS first FROM assignments GROUP BY request_id) AS a
WHERE a.request_id = mediation_requests.id""",
    'sqlite': """UPDATE mediation_requests SET first_offered_dt = (
    SELECT min(a.offered_dt) FROM assignments AS a WHERE a.request_id = mediation_requests.id)""",
}

# The trigger, as in mediation/models/derived.py on 2026-11-30.
_SET_FIRST_OFFER = """
        UPDATE mediation_requests SET first_offered_dt = NEW.offered_dt
        WHERE id = NEW.request_id
          AND (first_offered_dt IS NULL OR first_offered_dt > NEW.offered_dt);"""
TRIGGER = {
    'postgresql': [
        f"""CREATE FUNCTION assignments_first_offer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{_SET_FIRST_OFFER}
        RETURN NULL;
END
$$""",
        """CREATE TRIGGER assignments_first_offer AFTER INSERT ON assignments
    FOR EACH ROW EXECUTE FUNCTION assignments_first_offer()""",
    ],
    'sqlite': [
        f"""CREATE TRIGGER assignments_first_offer AFTER INSERT ON assignments
    BEGIN{_SET_FIRST_OFFER}
    END""",
    ],
}

# SQLite's overlap rule, as in mediation/models/constraints.py on 2026-11-30: rebuilding
# assignments (the downgrade) drops its triggers.
_OVERLAP_CHECK = """
    WHEN NEW.state IN ('offered', 'accepted') AND NEW.start_dt IS NOT NULL
    BEGIN
        SELECT RAISE(ABORT, 'ex_assignments_mediator_no_overlap')
        WHERE EXISTS (
            SELECT 1 FROM assignments AS a
            WHERE a.mediator_id = NEW.mediator_id
              AND a.id IS NOT NEW.id
              AND a.state IN ('offered', 'accepted')
              AND a.start_dt IS NOT NULL
              AND a.start_dt < NEW.end_dt
              AND NEW.start_dt < a.end_dt
        );
    END"""
OVERLAP_SQLITE = [
    f"CREATE TRIGGER assignments_no_overlap_insert BEFORE INSERT ON assignments{_OVERLAP_CHECK}",
    "CREATE TRIGGER assignments_no_overlap_update"
    f" BEFORE UPDATE OF mediator_id, state, start_dt, end_dt ON assignments{_OVERLAP_CHECK}",
]


def upgrade():
    dialect = op.get_bind().dialect.name

    op.add_column('mediation_requests',
                  sa.Column('first_offered_dt', sa.DateTime(timezone=True), nullable=True))
    op.execute(BACKFILL_FIRST_OFFER[dialect])
    for statement in TRIGGER[dialect]:
        op.execute(statement)
    op.drop_index('ix_mediation_requests_created_dt', table_name='mediation_requests')
    op.create_index('ix_mediation_requests_created', 'mediation_requests',
                    ['created_dt', 'state', 'first_offered_dt'], unique=False)
    op.drop_index('ix_mediation_requests_school_created', table_name='mediation_requests')
    op.create_index('ix_mediation_requests_school_created', 'mediation_requests',
                    ['school_id', 'created_dt', 'state', 'first_offered_dt'], unique=False)

    if dialect == 'sqlite':
        op.execute('ALTER TABLE assignments ADD COLUMN project_id INTEGER NOT NULL DEFAULT 0 '
                   'CONSTRAINT fk_assignments_project_id_projects REFERENCES projects (id)')
        op.execute(BACKFILL_PROJECT[dialect])
    else:
        op.add_column('assignments', sa.Column('project_id', sa.Integer(), nullable=True))
        op.execute(BACKFILL_PROJECT[dialect])
        op.alter_column('assignments', 'project_id', existing_type=sa.Integer(),
                        nullable=False)
        op.create_foreign_key(op.f('fk_assignments_project_id_projects'), 'assignments',
                              'projects', ['project_id'], ['id'])
    op.create_index('ix_assignments_project_state_start', 'assignments',
                    ['project_id', 'state', 'start_dt', 'deadline_dt'], unique=False)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute('DROP TRIGGER assignments_first_offer ON assignments')
        op.execute('DROP FUNCTION assignments_first_offer()')
    else:
        op.execute('DROP TRIGGER assignments_first_offer')
    op.drop_index('ix_assignments_project_state_start', table_name='assignments')
    if dialect == 'sqlite':
        # SQLite drops no column that a foreign key uses: rebuild the table without it
        # (its foreign key goes with it), then put back the triggers the rebuild dropped.
        with op.batch_alter_table('assignments', schema=None, recreate='always') as batch_op:
            batch_op.drop_column('project_id')
        for statement in OVERLAP_SQLITE:
            op.execute(statement)
    else:
        op.drop_constraint(op.f('fk_assignments_project_id_projects'), 'assignments',
                           type_='foreignkey')
        op.drop_column('assignments', 'project_id')

    op.drop_index('ix_mediation_requests_school_created', table_name='mediation_requests')
    op.create_index('ix_mediation_requests_school_created', 'mediation_requests',
                    ['school_id', 'created_dt', 'state'], unique=False)
    op.drop_index('ix_mediation_requests_created', table_name='mediation_requests')
    op.create_index('ix_mediation_requests_created_dt', 'mediation_requests',
                    ['created_dt'], unique=False)
    op.drop_column('mediation_requests', 'first_offered_dt')
