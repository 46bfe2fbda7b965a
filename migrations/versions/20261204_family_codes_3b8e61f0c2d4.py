"""family codes: a pseudonymous code of a pupil's family, and of a meeting's family

Reviewed: two nullable columns (pupil_cases.family_code, the code the school gives the
pupil's family, shared by siblings; mediation_requests.family_code, the family of a meeting
that names no pupil). Backfill: none to make: no existing row has a family code (NULL), so
the figures count each pupil case as its own family and a meeting naming no pupil as
unidentified participants, until the schools fill the codes in. Adding a nullable column
needs no table rebuild on SQLite, nor does dropping one without a foreign key or index
(ALTER TABLE DROP COLUMN, SQLite 3.35): no batch mode, which would rebuild the tables and
drop the triggers that read them (assignments_first_offer reads mediation_requests).

Revision ID: 3b8e61f0c2d4
Revises: 3b8d1f6a2c47 (rates and tariffs)
Create Date: 2026-12-04 11:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b8e61f0c2d4'
down_revision = '3b8d1f6a2c47'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('pupil_cases', sa.Column('family_code', sa.String(length=20), nullable=True))
    op.add_column('mediation_requests',
                  sa.Column('family_code', sa.String(length=20), nullable=True))


def downgrade():
    op.drop_column('mediation_requests', 'family_code')
    op.drop_column('pupil_cases', 'family_code')
