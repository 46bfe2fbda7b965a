"""reporting periods that close, their frozen files, adjustments

Reviewed: two new tables (reporting_periods, reporting_period_files) and one nullable
column on session_logs (adjusted_period_id, with its index and foreign key). No data to
move: no period is closed before this revision, so no log is an adjustment.

session_logs is not rebuilt on SQLite (its totals triggers would be lost): the column is
added with ALTER TABLE ADD COLUMN, its foreign key inline; its CHECK (an adjustment is
approved) is added on PostgreSQL only, as SQLite cannot add one to a table in place.

Revision ID: a51c0e7d2b19
Revises: 3b8e61f0c2d4
Create Date: 2026-12-04 15:00:00

"""
from alembic import op
import sqlalchemy as sa

import mediation.models.types


# revision identifiers, used by Alembic.
revision = 'a51c0e7d2b19'
down_revision = '3b8e61f0c2d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'reporting_periods',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ambito_id', sa.Integer(), nullable=True),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=False),
        sa.Column('closed_at', mediation.models.types.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('reopened_at', mediation.models.types.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column('reopened_by_id', sa.Integer(), nullable=True),
        sa.Column('reopen_reason', sa.String(length=500), nullable=True),
        sa.CheckConstraint('start_date <= end_date',
                           name=op.f('ck_reporting_periods_range_ordered')),
        sa.CheckConstraint(
            '(reopened_at IS NULL AND reopened_by_id IS NULL AND reopen_reason IS NULL)'
            ' OR (reopened_at IS NOT NULL AND reopen_reason IS NOT NULL)',
            name=op.f('ck_reporting_periods_reopened_with_reason')),
        sa.ForeignKeyConstraint(['ambito_id'], ['ambiti.id'],
                                name=op.f('fk_reporting_periods_ambito_id_ambiti')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'],
                                name=op.f('fk_reporting_periods_closed_by_id_users')),
        sa.ForeignKeyConstraint(['reopened_by_id'], ['users.id'],
                                name=op.f('fk_reporting_periods_reopened_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reporting_periods')),
    )
    op.create_index('ix_reporting_periods_scope', 'reporting_periods',
                    ['ambito_id', 'start_date'], unique=False)
    op.create_table(
        'reporting_period_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('mimetype', sa.String(length=120), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['period_id'], ['reporting_periods.id'],
                                name=op.f('fk_reporting_period_files_period_id_reporting_periods')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reporting_period_files')),
        sa.UniqueConstraint('period_id', 'name', name='uq_reporting_period_files_name'),
    )
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE session_logs ADD COLUMN adjusted_period_id INTEGER'
                   ' CONSTRAINT fk_session_logs_adjusted_period_id_reporting_periods'
                   ' REFERENCES reporting_periods (id)')
    else:
        op.add_column('session_logs',
                      sa.Column('adjusted_period_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_session_logs_adjusted_period_id_reporting_periods',
                              'session_logs', 'reporting_periods',
                              ['adjusted_period_id'], ['id'])
    op.create_index(op.f('ix_session_logs_adjusted_period_id'), 'session_logs',
                    ['adjusted_period_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.create_check_constraint(
            op.f('ck_session_logs_adjusted_when_approved'), 'session_logs',
            'adjusted_period_id IS NULL OR approved_dt IS NOT NULL')


def downgrade():
    op.drop_index(op.f('ix_session_logs_adjusted_period_id'), table_name='session_logs')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(op.f('ck_session_logs_adjusted_when_approved'), 'session_logs',
                           type_='check')
        op.drop_constraint('fk_session_logs_adjusted_period_id_reporting_periods',
                           'session_logs', type_='foreignkey')
    # SQLite (3.35+) drops a column in place, unless it is referenced: its inline
    # foreign key goes with it.
    op.drop_column('session_logs', 'adjusted_period_id')
    op.drop_table('reporting_period_files')
    op.drop_index('ix_reporting_periods_scope', table_name='reporting_periods')
    op.drop_table('reporting_periods')
