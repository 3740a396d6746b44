"""What every command shares on the terminal: its two consoles, a refusal, a progress bar."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

#: Results go to standard output; progress, notes and refusals to standard error, so a result
#: piped on (``report … --format csv | …``) carries nothing else.
out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Refuse in red on standard error (the text as given, no markup) and exit with ``code``:
    2 for a usage mistake, 1 for a refusal of the data."""
    err.print(message, style="red", markup=False)
    raise typer.Exit(code)


def progress_bar(label_width: int | None = None) -> Progress:
    """A Rich progress bar on standard error: a label (padded to ``label_width`` when several
    bars stand in a column), the bar, done of total, time elapsed."""
    label = "{task.description}" if label_width is None else f"{{task.description:<{label_width}}}"
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
