"""The spool: run reports the database refused after their POST, kept as JSON lines until it takes them.

A report is appended (and fsynced) when saving it fails; the next store that opens the same database
writes every spooled report in, then empties the file. One file per database (by its masked URL).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from outagesync.domain.models import RunReport

log = logging.getLogger("outagesync.storage")


def _as_list(value: object) -> object:
    """Packed items (domain/packed.py) are written as the list of items they hold."""
    if isinstance(value, Sequence):
        return list(value)
    raise NotImplementedError(f"cannot spool a {type(value).__name__}")


_encoder = msgspec.json.Encoder(enc_hook=_as_list)
_decoder = msgspec.json.Decoder(RunReport)
_guard = threading.Lock()


def default_spool_directory() -> Path:
    from platformdirs import user_data_path

    return user_data_path("outagesync", appauthor=False) / "spool"


class Spool:
    """The spool file of one database."""

    def __init__(self, directory: Path, database: str) -> None:
        name = hashlib.sha256(database.encode()).hexdigest()[:16]
        self.path = directory / f"reports-{name}.jsonl"

    def append(self, report: RunReport) -> None:
        """Keep `report` on disk (an OSError propagates: the caller says the outcome is lost)."""
        with _guard:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as file:
                file.write(_encoder.encode(report) + b"\n")
                file.flush()
                os.fsync(file.fileno())

    def replay(self, save: Callable[[RunReport], None]) -> int:
        """Save every spooled report (in order) with `save`, then empty the spool; how many were saved.

        If `save` fails, the reports not yet saved stay spooled (saving one again replaces it).
        """
        with _guard:
            if not self.path.exists():
                return 0
            lines = [line for line in self.path.read_bytes().splitlines() if line.strip()]
            for done, line in enumerate(lines):
                try:
                    save(_decoder.decode(line))
                except Exception:
                    self.path.write_bytes(b"".join(rest + b"\n" for rest in lines[done:]))
                    raise
            self.path.unlink()
        if lines:
            log.warning("stored %d spooled run report(s) from %s", len(lines), self.path)
        return len(lines)
