"""Schema upgrades with Alembic, from the CLI and from ``serve`` on start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from consult119.dberrors import database_unavailable

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine, revision: str = "head", *, attachment_dir: Path | None = None) -> None:
    """Bring the schema to ``revision``. Safe to run on every start: a no-op when current.

    ``attachment_dir`` is the attachment store a data migration writes files into (default:
    the one the environment's settings name for this database).
    """
    cfg = alembic_config(engine)
    if attachment_dir is not None:
        cfg.attributes["attachment_dir"] = attachment_dir
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two processes starting at once must not both migrate.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(1190119)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def database_revision(session: Session) -> str | None:
    """The revision the database is at (None: no Alembic table, never migrated). A database
    out of reach raises, as any read would."""
    try:
        return session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception as exc:
        if database_unavailable(exc):
            raise
        return None  # no alembic_version table
