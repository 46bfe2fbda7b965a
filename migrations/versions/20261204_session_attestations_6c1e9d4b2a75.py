"""session attestations: the school confirms or disputes a logged session

Reviewed: one new table (one row per session log at most: the requesting teacher's or a
school lead's answer, attested or disputed with a reason, who and when); nothing existing
changes, no data to move: the sessions logged before it have no row and count as pending
(the dashboard says so) until the school answers.

Revision ID: 6c1e9d4b2a75
Revises: a51c0e7d2b19 (reporting periods)
Create Date: 2026-12-04 14:30:00

"""
from alembic import op
import sqlalchemy as sa

import mediation.models.types


# revision identifiers, used by Alembic.
revision = '6c1e9d4b2a75'
down_revision = 'a51c0e7d2b19'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('session_attestations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_log_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('attested', 'disputed', name='attestation_outcome', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=True),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', mediation.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_session_attestations_by_id_users')),
    sa.ForeignKeyConstraint(['session_log_id'], ['session_logs.id'], name=op.f('fk_session_attestations_session_log_id_session_logs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_attestations')),
    sa.UniqueConstraint('session_log_id', name=op.f('uq_session_attestations_session_log_id'))
    )


def downgrade():
    op.drop_table('session_attestations')
