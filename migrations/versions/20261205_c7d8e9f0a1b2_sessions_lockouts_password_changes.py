"""sessions, lockouts, password changes: server-side sessions with remember tokens, sign-in
lockouts visible to admins, and a password change an admin can require

Revision ID: c7d8e9f0a1b2
Revises: b6c7d8e9f0a1
Create Date: 2026-12-05 18:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c7d8e9f0a1b2'
down_revision = 'b6c7d8e9f0a1'
branch_labels = None
depends_on = None

# The lockout scopes as they were when this migration was written (webapp/models/lockout.py).
LOCKOUT_SCOPES = ('source', 'device', 'new_devices')


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('remember_hash', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('user_agent', sa.String(length=255), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('remember_hash', name=op.f('uq_user_sessions_remember_hash')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash')),
    )
    op.create_index(op.f('ix_user_sessions_user_id'), 'user_sessions', ['user_id'], unique=False)
    scopes = ', '.join(f"'{scope}'" for scope in LOCKOUT_SCOPES)
    op.create_table(
        'login_lockouts',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lifted_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(f'scope IN ({scopes})', name=op.f('ck_login_lockouts_scope_valid')),
        sa.ForeignKeyConstraint(
            ['lifted_by_id'], ['users.id'], name=op.f('fk_login_lockouts_lifted_by_id_users'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_lockouts')),
    )
    op.create_index(op.f('ix_login_lockouts_email'), 'login_lockouts', ['email'], unique=False)
    op.create_index('ix_login_lockouts_until', 'login_lockouts', ['until'], unique=False)


def downgrade():
    op.drop_index('ix_login_lockouts_until', table_name='login_lockouts')
    op.drop_index(op.f('ix_login_lockouts_email'), table_name='login_lockouts')
    op.drop_table('login_lockouts')
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('must_change_password')
