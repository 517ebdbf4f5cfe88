"""Alembic environment: run the migrations on the URL the store was opened with."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

url = context.config.get_main_option("sqlalchemy.url")
engine = sa.create_engine(url or "")
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
