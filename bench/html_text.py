"""How the e-mail HTML-to-text conversion grows with its input, on the markups that made the
standard library's parser quadratic (unclosed tags and attributes, many tiny elements).

For each markup it times the conversion of N and 10·N repetitions (best of three) and prints the
ratio: about 10 means linear, about 100 quadratic. The baseline is the same function on the
same markup at the smaller size, measured in the same run. Stops by itself.

    .venv/bin/python bench/html_text.py [N]
"""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.table import Table

from consult119.channels.email.parser import html_to_text

UNITS = ["<a", "</x", "<a title='", '<div class="', "<p>x<br>", "<!--x-->"]


def best_time(markup: str) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        html_to_text(markup)
        times.append(time.perf_counter() - start)
    return min(times)


def main(n: int = 4_000) -> None:
    table = Table(title=f"html_to_text: {n:,} vs {10 * n:,} repetitions (best of 3)")
    for column in ("markup", f"{n:,} (ms)", f"{10 * n:,} (ms)", "growth (×, 10 = linear)"):
        table.add_column(column, justify="right")
    for unit in UNITS:
        small, large = "<p>help</p>" + unit * n, "<p>help</p>" + unit * (10 * n)
        t_small, t_large = best_time(small), best_time(large)
        table.add_row(repr(unit), f"{t_small * 1e3:.1f}", f"{t_large * 1e3:.1f}", f"{t_large / t_small:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4_000)
