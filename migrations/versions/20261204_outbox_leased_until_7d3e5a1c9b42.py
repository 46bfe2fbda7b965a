"""outbox: leased_until

Reviewed: one nullable column on outbox_messages (the end of a worker's lease while it
sends the message, so that the outbox page does not offer to requeue it); no data to
move, no batch mode needed on SQLite.

Revision ID: 7d3e5a1c9b42
Revises: 4f1c2a7d9e30
Create Date: 2026-12-04 05:30:00

"""
from alembic import op
import sqlalchemy as sa

import mediation.models.types


# revision identifiers, used by Alembic.
revision = '7d3e5a1c9b42'
down_revision = '4f1c2a7d9e30'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('outbox_messages',
                  sa.Column('leased_until', mediation.models.types.UTCDateTime(timezone=True),
                            nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages') as batch_op:
        batch_op.drop_column('leased_until')
