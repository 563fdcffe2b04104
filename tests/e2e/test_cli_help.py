"""Every command's `--help` follows docs/cli.md ("Conventions", "Help"): a one-line summary, the
variables it reads, 2 to 4 examples, defaults shown, settings' variables named, the conventional
metavars and no Typer type names (`<str>`, `<bool>`); and shell completion of site ids and statuses.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from outagesync.entrypoints.cli import app
from outagesync.entrypoints.cli.helptext import METAVARS

ROOT = typer.main.get_command(app)
# options a setting also gives: the help names the setting's variable and its real default
SETTING_OPTIONS = {
    ("sync", "--since"): ("OUTAGESYNC_SINCE", "2022-01-01T00:00:00.000Z"),
    ("sync", "--concurrency"): ("OUTAGESYNC_CONCURRENCY", "8"),
    ("", "--log-format"): ("OUTAGESYNC_LOG_FORMAT", "text"),
    ("worker", "--concurrency"): ("OUTAGESYNC_WORKER_CONCURRENCY", "2"),
}
CHOICES = re.compile(r"\[?[a-z0-9_-]+(\|[a-z0-9_ -]+)+\]?")


def _commands(command: Any = ROOT, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(path, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not sub.hidden:
            found += _commands(sub, (*path, name))
    return found


COMMANDS = _commands()


def _help(path: tuple[str, ...]) -> str:
    """`outagesync PATH --help`, on one line (box drawing and wrapping taken out)."""
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.replace("│", " ").split())


def _examples(command: Any) -> list[str]:
    epilog: str = command.epilog or ""
    assert "Examples:" in epilog, "no Examples: section in the docstring"
    lines = epilog.split("Examples:", 1)[1].splitlines()
    return [line.strip().replace("\\[", "[") for line in lines if line.strip()]  # markup unescaped


def test_every_command_is_walked() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "sync", "doctor", "reports list", "reports show", "sites list", "config show"} <= names


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "outagesync" for p, _ in COMMANDS]
)
def test_help_has_a_summary_examples_and_the_environment(path: tuple[str, ...], command: Any) -> None:
    shown = _help(path)
    summary = (command.help or "").split("\n\n")[0]
    assert "\n" not in summary
    assert 10 < len(summary) <= 100, summary
    assert summary.endswith("."), summary
    assert summary.replace("\\[", "[") in shown.replace("\\[", "[")
    callback = getattr(command, "callback", None)
    if callback is not None and not hasattr(command, "commands"):  # a command: its docstring's first line
        assert "\n" not in inspect.getdoc(callback).split("\n\n")[0]  # type: ignore[union-attr]
    examples = _examples(command)
    assert 2 <= len(examples) <= 4, examples
    for example in examples:
        assert example.startswith("outagesync "), example
        assert " ".join(example.split()) in shown
        if path and not hasattr(command, "commands"):
            assert f" {' '.join(path)}" in example, f"{example!r} does not run {' '.join(path)}"
    if not hasattr(command, "commands"):
        assert "Environment: " in shown


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "outagesync" for p, _ in COMMANDS]
)
def test_options_show_defaults_variables_and_conventional_metavars(
    path: tuple[str, ...], command: Any
) -> None:
    shown = _help(path)
    assert not re.search(
        r"<(str|int|float|bool|boolean|text|file|path|int range|float range|integer)>", shown
    )
    for param in command.params:
        takes_value = not getattr(param, "is_flag", False) and not getattr(param, "count", False)
        if param.name == "help" or not takes_value:
            continue
        name = param.opts[0]
        metavar = param.metavar
        assert metavar is not None, f"{name} has no metavar"
        assert metavar.strip("[]") in METAVARS or CHOICES.fullmatch(metavar), f"{name}: {metavar}"
        if param.default is not None and param.show_default is not False:
            default = getattr(param.default, "value", param.default)
            assert f"[default: {default}]" in shown, f"{name}: default {default!r} not shown"
        setting = SETTING_OPTIONS.get((" ".join(path), name))
        if setting is not None:
            variable, default = setting
            assert f"[env var: {variable}]" in shown, name
            assert f"[default: {default}]" in shown, name


def test_the_sync_help_names_the_key_variable_and_reads_whole() -> None:
    shown = _help(("sync",))
    assert "Environment: KRAKENFLEX_API_KEY, KRAKENFLEX_API_URL, OUTAGESYNC_DATABASE_URL" in shown
    assert re.search(r"Usage: outagesync sync \[OPTIONS\] \[?SITE_ID\.\.\.\]? ", shown)  # [] by Typer version
    assert "SITE_ID... Site ids to sync. [default: norwich-pear-tree]" in shown
    assert (
        "--concurrency N [1<=x<=256] Sites in flight at once. [env var: OUTAGESYNC_CONCURRENCY] [default: 8]"
        in (shown)
    )


def test_the_installed_command_prints_its_help(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 (the installed console script)
        [str(Path(sys.executable).with_name("outagesync")), "reports", "--help"],
        env={**os.environ, "COLUMNS": "80"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "outagesync reports list --site kingfisher --from 7d" in [line.strip() for line in lines]


# -- completion ----------------------------------------------------------------------------------------


def _complete(tmp_path: Path, words: str, env: dict[str, str]) -> list[str]:
    """What bash completion offers for the last of `words` (the installed command, as the shell runs it)."""
    done = subprocess.run(  # noqa: S603 (the installed console script)
        [str(Path(sys.executable).with_name("outagesync"))],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_"))},
            **env,
            "_OUTAGESYNC_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split(" ")) - 1),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    return done.stdout.split()


def test_site_ids_and_statuses_complete(tmp_path: Path) -> None:
    env = {"OUTAGESYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'reports.db'}"}
    for site in ("kingfisher", "kelpie-bay", "norwich-pear-tree"):
        added = CliRunner().invoke(app, ["sites", "add", site], env=env)
        assert added.exit_code == 0, added.output
    assert _complete(tmp_path, "outagesync sync k", env) == ["kelpie-bay", "kingfisher"]
    assert _complete(tmp_path, "outagesync reports list --site n", env) == ["norwich-pear-tree"]
    assert _complete(tmp_path, "outagesync sites show ", env) == [
        "kelpie-bay",
        "kingfisher",
        "norwich-pear-tree",
    ]
    assert _complete(tmp_path, "outagesync reports list --status f", env) == ["failed"]
    assert _complete(tmp_path, "outagesync reports clear --status ", env) == [
        "succeeded",
        "failed",
        "dry_run",
        "interrupted",
        "running",
        "abandoned",
    ]


def test_completion_offers_nothing_and_creates_nothing_without_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "reports.db"
    env = {"OUTAGESYNC_DATABASE_URL": f"sqlite:///{missing}"}
    assert _complete(tmp_path, "outagesync sync k", env) == []
    assert not missing.parent.exists()
    bad = {"OUTAGESYNC_DATABASE_URL": "mysql://nobody@127.0.0.1:9/x"}  # not a database we support
    assert _complete(tmp_path, "outagesync sync k", bad) == []


def test_show_completion_prints_the_bash_script(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 (the installed console script)
        [str(Path(sys.executable).with_name("outagesync")), "--show-completion", "bash"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "_OUTAGESYNC_COMPLETE=complete_bash" in done.stdout
    assert "complete -o default -F _outagesync_completion outagesync" in done.stdout


def test_install_completion_makes_bash_complete_site_ids(tmp_path: Path) -> None:
    """`--install-completion bash`, then a real bash sources what it installed and completes `sync k`."""
    home = tmp_path / "home"
    home.mkdir()
    command = Path(sys.executable).with_name("outagesync")
    database = f"sqlite:///{tmp_path / 'reports.db'}"
    assert (
        CliRunner()
        .invoke(app, ["sites", "add", "kingfisher"], env={"OUTAGESYNC_DATABASE_URL": database})
        .exit_code
        == 0
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_"))},
        "HOME": str(home),
        "PATH": f"{command.parent}{os.pathsep}{os.environ['PATH']}",
        "OUTAGESYNC_DATABASE_URL": database,
    }
    installed = subprocess.run(  # noqa: S603 (the installed console script)
        [str(command), "--install-completion", "bash"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    script = home / ".bash_completions" / "outagesync.sh"
    assert f"source '{script}'" in (home / ".bashrc").read_text()
    bash = shutil.which("bash")
    assert bash is not None
    completed = subprocess.run(  # noqa: S603 (bash, with the script it installed)
        [
            bash,
            "-c",
            f"source '{script}'; COMP_WORDS=(outagesync sync k); COMP_CWORD=2; "
            '_outagesync_completion outagesync; printf "%s\\n" "${COMPREPLY[@]}"',
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (completed.returncode, completed.stdout.split()) == (0, ["kingfisher"]), completed.stderr
