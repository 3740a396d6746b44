"""``consult119 demo``: build the demo database, print the logins, serve it."""

from __future__ import annotations

import time

import typer
from rich.table import Table as RichTable

from consult119.auth.passwords import check_new_password
from consult119.config import get_settings
from consult119.db import Database, utcnow
from consult119.demo import DemoRefused, build_demo
from consult119.errors import DomainError
from consult119.i18n import get_locale
from consult119.i18n import gettext as _
from consult119.staff.cli import read_password
from consult119.terminal import fail, out, progress_bar


def demo(
    port: int = typer.Option(8119, help="HTTP port to serve the demo on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
    smtp_port: int | None = typer.Option(
        None,
        help="Port of the SMTP intake listener (0 turns it off) "
        "\\[default: CONSULT119_SMTP_PORT or 2525].",
    ),
    no_serve: bool = typer.Option(False, "--no-serve", help="Only build the database."),
    reset: bool = typer.Option(
        False, "--reset", help="Erase a database that holds data the demo did not make."
    ),
    ask_password: bool = typer.Option(
        False,
        "--password",
        help="Set the demo accounts' password: read from stdin when piped, else asked twice "
        "without echo (default: CONSULT119_DEMO_PASSWORD, else a random one).",
    ),
) -> None:
    """Build a demo database with the published figures, print the logins, and serve it.

    The database holds the published 2021–2024 figures, live open cases and a roster covering
    now. Safe to run again: a database the demo made is rebuilt; any other is left alone unless
    --reset. The database is CONSULT119_DATABASE_URL (default: the SQLite file here). The demo
    server takes chat, Kakao and e-mail intake unsigned when their secrets are unset. The
    password is never an argument (it would land in shell history and process lists).
    """
    settings = get_settings()
    password: str | None = None
    if ask_password:
        password = read_password()
    elif settings.demo_password is not None:
        password = settings.demo_password.get_secret_value()
    if password is not None:
        try:  # before anything is built or wiped
            check_new_password(password)
        except DomainError as exc:
            fail(f"{exc.text(get_locale())} ({exc.code})", code=1)
    if smtp_port is not None:
        settings = settings.model_copy(update={"smtp_port": smtp_port})
    db = Database(settings)
    started = time.perf_counter()
    try:
        with progress_bar() as bar:
            task = bar.add_task(_("building the demo"), total=10)

            def step(message: object) -> None:
                bar.update(task, advance=1, description=str(message))

            result = build_demo(db, now=utcnow(), reset=reset, password=password, step=step)
            bar.update(task, completed=10, description=_("demo ready"))
    except DemoRefused as exc:
        fail(str(exc))
        return
    finally:
        db.dispose()
    elapsed = time.perf_counter() - started
    years = ", ".join(f"{y}: {n:,}" for y, n in result.cases_per_year.items())
    out.print(
        _(
            "Demo database built in {seconds:.1f} s — cases {years}; {open} open now.",
            seconds=elapsed,
            years=years,
            open=result.open_cases,
        ),
        style="green",
    )
    table = RichTable(title=_("Staff logins (demo only)"), header_style="bold")
    table.add_column(_("role"))
    table.add_column(_("name"))
    table.add_column(_("e-mail"), no_wrap=True)
    table.add_column(_("password"), no_wrap=True)
    table.add_column(_("on duty"))
    for login in result.logins:
        table.add_row(
            login.role, login.name, login.email, login.password, _("yes") if login.on_duty else ""
        )
    out.print(table)
    if no_serve:
        return
    out.print(
        _(
            "Serving http://{host}:{port}  (console /console/, reports /reports/, API /docs)"
            " — Ctrl+C stops.",
            host=host,
            port=port,
        )
    )
    # The web app loads only now, when the demo serves (``--no-serve`` never needs it).
    from consult119.serving import run_server

    # A local demo: the channels are open without their secrets (serve keeps them off).
    run_server(settings.model_copy(update={"allow_unsigned_channels": True}), host=host, port=port)
