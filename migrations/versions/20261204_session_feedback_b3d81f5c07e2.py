"""session feedback: after a held session, the school's and the mediator's rating (issue #19)

Reviewed: one new table (at most one row per session log and side: the requesting
teacher's answer to "was the mediation useful?" or the mediator's to "how was the
organisation?", a rating from 1 to 5 checked by the database, an optional comment, who and
when); nothing existing changes, no data to move: the sessions held before it have no
answer.

Revision ID: b3d81f5c07e2
Revises: c4e9a2b7d513 (mediator no-shows)
Create Date: 2026-12-04 20:50:00

"""
from alembic import op
import sqlalchemy as sa

import mediation.models.types


# revision identifiers, used by Alembic.
revision = 'b3d81f5c07e2'
down_revision = 'c4e9a2b7d513'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('session_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_log_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.Enum('school', 'mediator', name='feedback_side', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=True),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', mediation.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_session_feedback_rating_range')),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_session_feedback_by_id_users')),
    sa.ForeignKeyConstraint(['session_log_id'], ['session_logs.id'], name=op.f('fk_session_feedback_session_log_id_session_logs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_feedback')),
    sa.UniqueConstraint('session_log_id', 'side', name='uq_session_feedback_log_side')
    )


def downgrade():
    op.drop_table('session_feedback')
