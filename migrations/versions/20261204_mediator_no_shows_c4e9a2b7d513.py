"""mediator no-shows: the school reports that the mediator did not come

Reviewed: one new table (one row per appointment the requesting teacher or a lead
reported: the assignment, its request and mediator copied for the counts, who reported
it, when, an optional note that the retention purge blanks); nothing existing changes,
no data to move.

Revision ID: c4e9a2b7d513
Revises: b3d8e1f4a627 (requests' number to call)
Create Date: 2026-12-04 21:00:00

"""
from alembic import op
import sqlalchemy as sa

import mediation.models.types


# revision identifiers, used by Alembic.
revision = 'c4e9a2b7d513'
down_revision = 'b3d8e1f4a627'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mediator_no_shows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=False),
    sa.Column('reported_dt', mediation.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_mediator_no_shows_assignment_id_assignments')),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediator_profiles.id'], name=op.f('fk_mediator_no_shows_mediator_id_mediator_profiles')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_mediator_no_shows_reported_by_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['mediation_requests.id'], name=op.f('fk_mediator_no_shows_request_id_mediation_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediator_no_shows')),
    sa.UniqueConstraint('assignment_id', name=op.f('uq_mediator_no_shows_assignment_id'))
    )
    op.create_index(op.f('ix_mediator_no_shows_mediator_id'), 'mediator_no_shows', ['mediator_id'], unique=False)
    op.create_index(op.f('ix_mediator_no_shows_request_id'), 'mediator_no_shows', ['request_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_mediator_no_shows_request_id'), table_name='mediator_no_shows')
    op.drop_index(op.f('ix_mediator_no_shows_mediator_id'), table_name='mediator_no_shows')
    op.drop_table('mediator_no_shows')
