"""Tables of data, as docs/cli.md ("Output") says: on a terminal a table when it fits, else one stacked
block per row; piped, tab-separated values. Nothing is ever cut: ids, numbers, times and statuses are
never wrapped, free text folds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rich import box
from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from outagesync.entrypoints.cli.render.styles import STATUS_STYLES

Kind = Literal["id", "number", "time", "status", "text"]
Cell = str | int | None  # int: a count (1,234 on a terminal); None: the figure does not apply ("-")
NOT_APPLICABLE = "-"


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    kind: Kind = "text"


@dataclass(frozen=True, slots=True)
class Grid:
    """Rows of cells under columns; `title` is shown above the table on a terminal (stderr when piped)."""

    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)
    title: str | None = None


def print_grid(grid: Grid, console: Console, *, err: Console | None = None) -> None:
    """`grid` on `console`: tab-separated when it is not a terminal (the title then goes to `err`), else
    a table if the table fits the width, else stacked blocks."""
    if not console.is_terminal:
        if grid.title and err is not None:
            err.print(escape(grid.title), highlight=False, soft_wrap=True)
        after_another = getattr(console, "_outagesync_tsv", False)  # tables apart by one empty line
        setattr(console, "_outagesync_tsv", True)  # noqa: B010 (an attribute Console does not declare)
        header = tsv_line(column.header for column in grid.columns)
        rows = [tsv_line(plain(cell) for cell in row) for row in grid.rows]
        write_lines(console, [*([""] if after_another else []), header, *rows])
        return
    table = _table(grid)
    unbounded = console.options.update_width(100_000)  # measured at the console's width, it is clamped to it
    if Measurement.get(console, unbounded, table).minimum <= console.width:
        console.print(table)
    else:
        print_stacked(grid, console)


def print_stacked(grid: Grid, console: Console) -> None:
    """One block per row, one `column: value` line per cell (soft-wrapped: never cut, never split)."""
    if grid.title:
        console.print(escape(grid.title), highlight=False, soft_wrap=True)
    for index, row in enumerate(grid.rows):
        if index or grid.title:
            console.print()
        for column, cell in zip(grid.columns, row, strict=True):
            line = f"[bold]{escape(column.header)}[/]: {styled(cell, column.kind)}"
            console.print(line, highlight=False, soft_wrap=True)


def write_lines(console: Console, lines: Sequence[str]) -> None:
    """Lines written as they are (no wrapping, no markup, no padding), unless the console is quiet."""
    if not console.quiet:
        console.file.write("".join(f"{line}\n" for line in lines))
        console.file.flush()


def tsv_line(cells: Iterable[str]) -> str:
    """Cells joined by tabs; tabs and line breaks inside a cell become spaces."""
    return "\t".join(" ".join(cell.split()) for cell in cells)


def plain(cell: Cell) -> str:
    """A cell for scripts: counts as plain digits, `-` where a figure does not apply."""
    return NOT_APPLICABLE if cell is None else str(cell)


def shown(cell: Cell) -> str:
    """A cell for people: counts with thousands separators, `-` where a figure does not apply."""
    if cell is None:
        return NOT_APPLICABLE
    return f"{cell:,}" if isinstance(cell, int) else cell


def styled(cell: Cell, kind: Kind) -> str:
    """The cell as Rich markup (a status in its colour)."""
    text = escape(shown(cell))
    style = STATUS_STYLES.get(shown(cell)) if kind == "status" else None
    return f"[{style}]{text}[/]" if style else text


def _table(grid: Grid) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        title=escape(grid.title) if grid.title else None,
        title_justify="left",
        header_style="bold",
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,  # two spaces between columns
    )
    for index, column in enumerate(grid.columns):
        words = max((len(word) for word in column.header.split()), default=1)
        cells = [shown(row[index]) for row in grid.rows]
        justify: JustifyMethod = "right" if column.kind == "number" else "left"
        if column.kind == "text":  # folds; never narrower than the header's longest word
            table.add_column(escape(column.header), justify=justify, overflow="fold", min_width=words)
        else:  # exactly as wide as its widest cell: never wrapped, never cut (the header wraps by words)
            width = max([words, *(len(cell) for cell in cells)])
            table.add_column(escape(column.header), justify=justify, overflow="fold", width=width)
    for row in grid.rows:
        table.add_row(*(styled(cell, column.kind) for cell, column in zip(row, grid.columns, strict=True)))
    return table
