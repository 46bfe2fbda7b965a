"""schools: address and telephone

Reviewed: two nullable columns on schools (the street and number, the switchboard's number,
printed on the family letter; empty until the lead fills them in); no data to move. Adding a
nullable column needs no table rebuild on SQLite; dropping them does (batch mode).

Revision ID: 290d762bd28a
Revises: 7d3e5a1c9b42
Create Date: 2026-12-04 08:28:07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '290d762bd28a'
down_revision = '7d3e5a1c9b42'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('schools', sa.Column('address', sa.String(length=200), nullable=True))
    op.add_column('schools', sa.Column('telephone', sa.String(length=30), nullable=True))


def downgrade():
    with op.batch_alter_table('schools') as batch_op:
        batch_op.drop_column('telephone')
        batch_op.drop_column('address')
