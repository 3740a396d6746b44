"""The ``consult119`` command."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperOption

from consult119 import backup as backups
from consult119.config import WS_IMPLEMENTATIONS, get_settings
from consult119.db import build_engine
from consult119.demo.cli import demo
from consult119.i18n import SUPPORTED_LOCALES, environment_locale, match_locale, use_locale
from consult119.i18n import gettext as _
from consult119.logs import LOG_FORMATS
from consult119.migrate import upgrade
from consult119.reports.cli import import_app, report_app
from consult119.retention.cli import retention_app
from consult119.staff import cli as staff_cli
from consult119.terminal import fail, out, progress_bar


def _flag_type_hidden() -> None:
    """Help shows no ``<bool>`` type beside a flag (``--no-serve``, ``--help``): a flag takes no
    value, and a type there reads as if it wanted one."""
    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: typer.Context) -> str | None:
        return None if self.is_flag and self.metavar is None else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flag_type_hidden()

app = typer.Typer(
    name="consult119",
    help="consult119: case system for emergency medical consultation of Koreans abroad.\n\n"
    "Settings come from CONSULT119_* environment variables (see README.md).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(staff_cli.staff_app, name="staff")
app.add_typer(staff_cli.roster_app, name="roster")
app.add_typer(report_app, name="report")
app.add_typer(import_app, name="import")
app.add_typer(retention_app, name="retention")
app.command("demo")(demo)


@app.callback()
def main(
    ctx: typer.Context,
    lang: str | None = typer.Option(
        None,
        "--lang",
        envvar="CONSULT119_LANG",
        help="Language of the messages: ko or en. Default: LC_ALL, LC_MESSAGES or LANG "
        "(the C locale, or none, is English; other languages fall back to Korean).",
    ),
) -> None:
    """Choose the language every command speaks (see docs/i18n.md)."""
    if lang is not None and match_locale(lang) is None:
        supported = ", ".join(SUPPORTED_LOCALES)
        raise typer.BadParameter(f"{lang!r}: use one of {supported}", param_hint="--lang")
    ctx.with_resource(use_locale(lang or environment_locale()))


@db_app.command("upgrade")
def db_upgrade(
    revision: str = typer.Argument("head", help="Target revision; 'head' is the newest."),
) -> None:
    """Create the schema or bring it up to date. Safe to run again."""
    engine = build_engine(get_settings())
    upgrade(engine, revision)
    engine.dispose()
    out.print(_("Schema is at {revision}.", revision=revision), style="green")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8119, help="HTTP port for the API, WebSockets and pages."),
    smtp_port: int | None = typer.Option(
        None,
        help="Port of the SMTP intake listener (0 turns it off) "
        "\\[default: CONSULT119_SMTP_PORT or 2525].",
    ),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    ws: str = typer.Option(
        "websockets-sansio",
        help="WebSocket implementation: websockets-sansio (measured best for the console's "
        "fan-out, docs/performance.md), websockets, or wsproto (needs the wsproto package).",
    ),
    log_format: str = typer.Option(
        "text",
        help="Log lines as text, or json: one JSON object per line with the request id "
        "(docs/operations.md, Logs).",
    ),
) -> None:
    """Run the HTTP API, WebSockets, pages and SMTP intake in one process.

    Creates or upgrades the database schema first.
    """
    if ws not in WS_IMPLEMENTATIONS:
        raise typer.BadParameter(
            f"choose one of {', '.join(WS_IMPLEMENTATIONS)}", param_hint="--ws"
        )
    if log_format not in LOG_FORMATS:
        raise typer.BadParameter(
            f"choose one of {', '.join(LOG_FORMATS)}", param_hint="--log-format"
        )
    settings = get_settings()
    if smtp_port is not None:
        settings = settings.model_copy(update={"smtp_port": smtp_port})
    # The web app and the server load only for the commands that serve: every other command
    # (``--help`` included) starts without them.
    from consult119.serving import run_server

    run_server(settings, host=host, port=port, log_level=log_level, ws=ws, log_format=log_format)


@app.command()
def backup(
    path: Path = typer.Argument(..., help="New (or empty) folder to write the backup into."),
) -> None:
    """Copy the database (safe while the server runs) and the attachments folder into PATH.

    SQLite: a consistent copy by the online backup API. PostgreSQL: prints the pg_dump line.
    """
    settings = get_settings()
    if not settings.is_sqlite:
        out.print(_("PostgreSQL is backed up with pg_dump; run:"))
        print(backups.pg_dump_line(settings, path))
        raise typer.Exit(2)
    try:
        with _progress() as progress:
            result = backups.backup(settings, path, progress=progress)
    except backups.BackupError as exc:
        fail(_("Backup failed: {reason}", reason=str(exc)), 1)
    out.print(
        _(
            "Backup written to {path}: {pages} pages, {files} attachment files.",
            path=str(result.path),
            pages=result.pages,
            files=result.files,
        ),
        style="green",
        markup=False,
    )


@app.command()
def restore(
    path: Path = typer.Argument(..., help="Folder a `consult119 backup` wrote."),
) -> None:
    """Put the backup in PATH in place of the database; refused while a server runs on it.

    The copy is checked (PRAGMA integrity_check) first; the old file is kept beside it.
    """
    settings = get_settings()
    if not settings.is_sqlite:
        out.print(_("PostgreSQL is restored with pg_restore; run:"))
        print(backups.pg_restore_line(settings, path))
        raise typer.Exit(2)
    try:
        with _progress() as progress:
            result = backups.restore(settings, path, progress=progress)
    except backups.BackupError as exc:
        fail(_("Restore refused: {reason}", reason=str(exc)), 1)
    out.print(
        _(
            "Restored {database} (schema {revision}); the old file is kept as {kept}.",
            database=str(result.database),
            revision=result.revision or "-",
            kept=str(result.kept or "-"),
        ),
        style="green",
        markup=False,
    )


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A Rich progress bar on stderr: one line per kind of unit (pages, bytes, files)."""

    with progress_bar(8) as bar:
        tasks: dict[str, Any] = {}

        def update(unit: str, done: int, total: int) -> None:
            if unit not in tasks:
                tasks[unit] = bar.add_task(unit, total=total)
            bar.update(tasks[unit], completed=done, total=total)

        yield update


if __name__ == "__main__":
    app()
