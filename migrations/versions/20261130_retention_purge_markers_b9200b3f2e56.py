"""retention purge markers

Reviewed: when ``flask privacy purge`` anonymised a request, its pupil case and its
documents (nullable columns, plain ADD COLUMN); a purged document keeps its row (kind,
size, date: the counts) but loses its file name, type and checksum, so those become
nullable. Only ``documents`` is altered in batch mode on SQLite (it has no triggers).

Revision ID: b9200b3f2e56
Revises: 185aa81f0e70
Create Date: 2026-11-30 02:44:48.406667

"""
from alembic import op
import sqlalchemy as sa

import mediation.models.types


# revision identifiers, used by Alembic.
revision = 'b9200b3f2e56'
down_revision = '185aa81f0e70'
branch_labels = None
depends_on = None

_DOCUMENT_COLUMNS = (('storage_name', 64), ('original_name', 255), ('content_type', 100),
                     ('sha256', 64))


def upgrade():
    op.add_column('mediation_requests', sa.Column(
        'anonymised_dt', mediation.models.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column('pupil_cases', sa.Column(
        'anonymised_dt', mediation.models.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'purged_dt', mediation.models.types.UTCDateTime(timezone=True), nullable=True))
        for name, length in _DOCUMENT_COLUMNS:
            batch_op.alter_column(name, existing_type=sa.VARCHAR(length=length), nullable=True)


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        # A purged document has no file name any more: name it by its id to go back.
        op.execute("UPDATE documents SET storage_name = 'purged-' || id, "
                   "original_name = 'purged', content_type = 'application/octet-stream', "
                   "sha256 = '' WHERE storage_name IS NULL")
        for name, length in reversed(_DOCUMENT_COLUMNS):
            batch_op.alter_column(name, existing_type=sa.VARCHAR(length=length),
                                  nullable=False)
        batch_op.drop_column('purged_dt')
    op.drop_column('pupil_cases', 'anonymised_dt')
    op.drop_column('mediation_requests', 'anonymised_dt')
