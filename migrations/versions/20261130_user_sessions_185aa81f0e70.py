"""user sessions

Reviewed: a new table only (one row per login, the token stored as its SHA-256),
with an index on the user; no change to existing tables, so no batch mode.

Revision ID: 185aa81f0e70
Revises: c3e7549eddb4
Create Date: 2026-11-30 02:43:52.915071

"""
from alembic import op
import sqlalchemy as sa

import mediation.models.types


# revision identifiers, used by Alembic.
revision = '185aa81f0e70'
down_revision = 'c3e7549eddb4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_dt', mediation.models.types.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('last_seen_dt', mediation.models.types.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('expires_dt', mediation.models.types.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('remember', sa.Boolean(), nullable=False),
        sa.Column('ip_address', sa.String(length=45), nullable=True),
        sa.Column('user_agent', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_user_sessions_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash')),
    )
    op.create_index(op.f('ix_user_sessions_user_id'), 'user_sessions', ['user_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
