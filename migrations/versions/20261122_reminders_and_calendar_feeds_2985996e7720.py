"""reminders and calendar feeds

Reviewed: plain ALTER TABLE ADD COLUMN of nullable columns and a CREATE UNIQUE
INDEX, no batch mode: on SQLite a batch copy of assignments would drop the
triggers that keep a mediator's assignments from overlapping.

Revision ID: 2985996e7720
Revises: 0684108b5333
Create Date: 2026-11-22 05:45:39.883601

"""
from alembic import op
import sqlalchemy as sa

import mediation.models.types


# revision identifiers, used by Alembic.
revision = '2985996e7720'
down_revision = '0684108b5333'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('assignments', sa.Column(
        'reminder_sent_dt', mediation.models.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column('assignments', sa.Column(
        'log_requested_dt', mediation.models.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('calendar_token', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_users_calendar_token'), 'users', ['calendar_token'], unique=True)


def downgrade():
    op.drop_index(op.f('ix_users_calendar_token'), table_name='users')
    op.drop_column('users', 'calendar_token')
    op.drop_column('assignments', 'log_requested_dt')
    op.drop_column('assignments', 'reminder_sent_dt')
