"""The schema check on every use: one query when the schema is current, Alembic only to migrate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from outagesync.adapters.storage import SqlStore, migrate
from outagesync.adapters.storage.revision import HEAD_REVISION


def test_the_head_revision_constant_is_alembics_head() -> None:
    assert migrate.head_revision() == HEAD_REVISION


def test_a_current_schema_costs_one_query_before_the_work(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reports.db'}"
    with SqlStore.from_url(url, spool_dir=tmp_path / "spool") as first:
        first.list_sites()  # migrates
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", seen)
    try:
        with SqlStore.from_url(url, spool_dir=tmp_path / "spool") as store:
            assert store.list_sites() == []
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", seen)
    statements = [s for s in statements if s != "BEGIN"]  # SQLite's explicit transactions (engine.py)
    assert len(statements) == 2
    assert statements[0] == "SELECT version_num FROM outagesync_alembic_version"
    assert statements[1].startswith("SELECT")


def test_alembic_is_not_imported_when_the_schema_is_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reports.db'}"
    with SqlStore.from_url(url, spool_dir=tmp_path / "spool") as store:
        assert store.current_revision() is None
        store.list_sites()
        assert store.current_revision() == HEAD_REVISION
    script = (
        "import sys\n"
        "from outagesync.adapters.storage import SqlStore\n"
        "from pathlib import Path\n"
        f"store = SqlStore.from_url({url!r}, spool_dir=Path({str(tmp_path / 'spool')!r}))\n"
        "store.list_sites()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)  # noqa: S603
    assert (done.returncode, done.stderr, done.stdout) == (0, "", "[]\n")
