"""first offer on requests, project and school on assignments

The admin's dashboard (the whole region, 1,000,000 logs) still took 1.5-4 s on PostgreSQL;
two of its costs were joins that a copy removes:

- mediation_requests.first_offered_dt: the earliest offered_dt of the request's
  assignments, kept by the trigger assignments_first_offer on every new assignment (see
  mediation/models/derived.py). The time to first offer read every request of the period
  joined with all its assignments (245,000 requests a year for the region); it now reads
  the requests' indexes alone: ix_mediation_requests_created (created_dt, state,
  first_offered_dt), which replaces ix_mediation_requests_created_dt, and
  ix_mediation_requests_school_created, which gains first_offered_dt.
- assignments.project_id and school_id: copies of the request's (neither changes once a
  request is filed; set by the application before every insert). The end-date warning
  scanned every active booking after the earliest project end (half a million accepted
  assignments for a project that ended two years ago) with its request; it now reads a
  few ranges of ix_assignments_project_state_start (project_id, state, start_dt,
  deadline_dt, school_id) per project. An Ambito's utilisation probed each of the
  Ambito's requests of every year for its appointments; it now reads a range of
  ix_assignments_school_state_start (school_id, state, start_dt, mediator_id, end_dt)
  per school.

SQLite cannot add a NOT NULL column with a foreign key in place: the columns are added with
a DEFAULT 0 that the backfill replaces (0 is no row: the foreign key refuses any row left
with it), which SQLite accepts only with its foreign keys off (migrations/env.py turns them
off for every migration and runs PRAGMA foreign_key_check before committing). PostgreSQL
adds them nullable, backfills, then sets NOT NULL.

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

BACKFILL_COPIES = {
    'postgresql': """UPDATE assignments SET project_id = r.project_id, school_id = r.school_id
FROM mediation_requests AS r WHERE r.id = assignments.request_id""",
    'sqlite': """UPDATE assignments SET (project_id, school_id) = (
    SELECT r.project_id, r.school_id FROM mediation_requests AS r
    WHERE r.id = assignments.request_id)""",
}
#: The copied columns: (name, referenced table).
COPIES = [('project_id', 'projects'), ('school_id', 'schools')]

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
        for name, table in COPIES:
            op.execute(f'ALTER TABLE assignments ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0 '
                       f'CONSTRAINT fk_assignments_{name}_{table} REFERENCES {table} (id)')
        op.execute(BACKFILL_COPIES[dialect])
    else:
        for name, _table in COPIES:
            op.add_column('assignments', sa.Column(name, sa.Integer(), nullable=True))
        op.execute(BACKFILL_COPIES[dialect])
        for name, table in COPIES:
            op.alter_column('assignments', name, existing_type=sa.Integer(), nullable=False)
            op.create_foreign_key(op.f(f'fk_assignments_{name}_{table}'), 'assignments',
                                  table, [name], ['id'])
    op.create_index('ix_assignments_project_state_start', 'assignments',
                    ['project_id', 'state', 'start_dt', 'deadline_dt', 'school_id'],
                    unique=False)
    op.create_index('ix_assignments_school_state_start', 'assignments',
                    ['school_id', 'state', 'start_dt', 'mediator_id', 'end_dt'], unique=False)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute('DROP TRIGGER assignments_first_offer ON assignments')
        op.execute('DROP FUNCTION assignments_first_offer()')
    else:
        op.execute('DROP TRIGGER assignments_first_offer')
    op.drop_index('ix_assignments_school_state_start', table_name='assignments')
    op.drop_index('ix_assignments_project_state_start', table_name='assignments')
    if dialect == 'sqlite':
        # SQLite drops no column that a foreign key uses: rebuild the table without them
        # (their foreign keys go with them), then put back the triggers the rebuild dropped.
        with op.batch_alter_table('assignments', schema=None, recreate='always') as batch_op:
            for name, _table in COPIES:
                batch_op.drop_column(name)
        for statement in OVERLAP_SQLITE:
            op.execute(statement)
    else:
        for name, table in COPIES:
            op.drop_constraint(op.f(f'fk_assignments_{name}_{table}'), 'assignments',
                               type_='foreignkey')
            op.drop_column('assignments', name)

    op.drop_index('ix_mediation_requests_school_created', table_name='mediation_requests')
    op.create_index('ix_mediation_requests_school_created', 'mediation_requests',
                    ['school_id', 'created_dt', 'state'], unique=False)
    op.drop_index('ix_mediation_requests_created', table_name='mediation_requests')
    op.create_index('ix_mediation_requests_created_dt', 'mediation_requests',
                    ['created_dt'], unique=False)
    op.drop_column('mediation_requests', 'first_offered_dt')
