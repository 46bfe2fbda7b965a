"""mediation requests: the number to call for a meeting by phone

Reviewed: one nullable column on mediation_requests (the number the school gives for a
meeting in phone mode; personal data, blanked by the retention purge); no data to move:
phone meetings filed before carry none. Adding a nullable column needs no table rebuild on
SQLite; dropping it needs none either (SQLite 3.35+ drops a plain column directly; a batch
rebuild of mediation_requests would break the triggers that name it).

Revision ID: b3d8e1f4a627
Revises: f7a2c9e41b63 (family invitations)
Create Date: 2026-12-04 20:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3d8e1f4a627'
down_revision = 'f7a2c9e41b63'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('mediation_requests',
                  sa.Column('call_number', sa.String(length=30), nullable=True))


def downgrade():
    op.drop_column('mediation_requests', 'call_number')
