"""family invitations: the family answers the invitation letter by a link (issue #19)

Reviewed: one new table (one row per meeting whose letter was printed: the nonce from
which the link's token is derived with the application's secret, the token's SHA-256,
the family's latest answer and when); nothing existing changes, no data to move: letters
printed before carry no link.

Revision ID: f7a2c9e41b63
Revises: 05f9d987acdf (offer broadcasts)
Create Date: 2026-12-04 17:45:00

"""
from alembic import op
import sqlalchemy as sa

import mediation.models.types


# revision identifiers, used by Alembic.
revision = 'f7a2c9e41b63'
down_revision = '05f9d987acdf'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('family_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.Enum('coming', 'not_coming', 'another_day', name='family_answer', native_enum=False, create_constraint=True, length=11), nullable=True),
    sa.Column('answered_at', mediation.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', mediation.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_family_invitations_assignment_id_assignments')),
    sa.ForeignKeyConstraint(['request_id'], ['mediation_requests.id'], name=op.f('fk_family_invitations_request_id_mediation_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_invitations')),
    sa.UniqueConstraint('assignment_id', name=op.f('uq_family_invitations_assignment_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_family_invitations_token_hash'))
    )
    with op.batch_alter_table('family_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_invitations_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('family_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_family_invitations_request_id'))
    op.drop_table('family_invitations')
