"""`outagesync sandbox`: run the fake KrakenFlex API in the foreground until Ctrl-C.

Parses flags and renders; the sandbox (uvicorn, data) is imported inside the command to keep start-up fast.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from outagesync.sandbox import DEFAULT_API_KEY, DEFAULT_HOST, DEFAULT_PORT

if TYPE_CHECKING:
    from outagesync.sandbox.data import Dataset
    from outagesync.sandbox.faults import Fault
    from outagesync.sandbox.server import Sandbox

_DATA = "Data"
_FAULTS = "Faults (for requests with the right key to the three upstream endpoints)"


def sandbox_command(
    host: Annotated[
        str,
        typer.Option(metavar="HOST", help="Interface to listen on. Use 0.0.0.0 to accept other machines."),
    ] = (DEFAULT_HOST),
    port: Annotated[
        int, typer.Option(metavar="PORT", min=0, max=65535, help="Port to listen on (0: any free port).")
    ] = (DEFAULT_PORT),
    api_key: Annotated[
        str,
        typer.Option(
            metavar="KEY", help="The key clients must send as [bold]x-api-key[/]; the default is documented."
        ),
    ] = DEFAULT_API_KEY,
    dataset: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            exists=True,
            dir_okay=False,
            rich_help_panel=_DATA,
            help='Serve this JSON file instead of the built-in data: {"outages": [...], "sites": [...]} '
            "(see docs/sandbox.md).",
        ),
    ] = None,
    outages: Annotated[
        int | None,
        typer.Option(
            metavar="N", min=0, rich_help_panel=_DATA, help="Serve a synthetic dataset of this many outages."
        ),
    ] = None,
    devices: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            min=1,
            rich_help_panel=_DATA,
            show_default="outages/100",
            help="Synthetic: number of devices.",
        ),
    ] = None,
    sites: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            min=0,
            rich_help_panel=_DATA,
            show_default="devices/10",
            help="Synthetic: number of sites.",
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(metavar="N", rich_help_panel=_DATA, help="Synthetic: seed; same seed, same data.")
    ] = 0,
    changing_data: Annotated[
        bool,
        typer.Option(
            "--changing-data",
            rich_help_panel=_DATA,
            help="Serve a new version of the data on each GET /outages (one marker outage per site "
            "whose end encodes it), to reproduce overlapping syncs; POSTs of any version are accepted.",
        ),
    ] = False,
    json_style: Annotated[
        str,
        typer.Option(
            "--json-style",
            rich_help_panel=_DATA,
            metavar="compact|spaced|indented|crlf",
            help="How GET /outages is written: compact (as the real API), spaced (`, ` and `: `), "
            "indented (2 spaces) or crlf (indented, CRLF line ends).",
        ),
    ] = "compact",
    fail_rate: Annotated[
        float,
        typer.Option(
            metavar="RATE", min=0, max=1, rich_help_panel=_FAULTS, help="Probability of a 500 per request."
        ),
    ] = 0.0,
    fail_first: Annotated[
        int,
        typer.Option(
            metavar="N", min=0, rich_help_panel=_FAULTS, help="The first N matching requests get a 500."
        ),
    ] = 0,
    rate_limit: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            min=1,
            rich_help_panel=_FAULTS,
            help="Allow N requests per second; beyond, 429 + Retry-After.",
        ),
    ] = None,
    retry_after: Annotated[
        int | None,
        typer.Option(
            metavar="SECONDS",
            min=0,
            rich_help_panel=_FAULTS,
            show_default="until a request slot frees, at least 1",
            help="Retry-After seconds sent with the --rate-limit 429s.",
        ),
    ] = None,
    latency_ms: Annotated[
        float,
        typer.Option(
            metavar="MS", min=0, rich_help_panel=_FAULTS, help="Delay added to every matching request."
        ),
    ] = 0.0,
    truncate_rate: Annotated[
        float,
        typer.Option(
            metavar="RATE",
            min=0,
            max=1,
            rich_help_panel=_FAULTS,
            help="Probability that a 200 body is cut in half (bad JSON).",
        ),
    ] = 0.0,
    drop_rate: Annotated[
        float,
        typer.Option(
            metavar="RATE",
            min=0,
            max=1,
            rich_help_panel=_FAULTS,
            help="Probability that the connection is closed, no response.",
        ),
    ] = 0.0,
    fault_target: Annotated[
        str | None,
        typer.Option(
            metavar="TARGET",
            rich_help_panel=_FAULTS,
            show_default="all three endpoints",
            help='Apply the faults only to matching requests, e.g. [bold]"GET /outages"[/], '
            '[bold]"POST /site-outages"[/] or [bold]"/site-info"[/].',
        ),
    ] = None,
    fault_seed: Annotated[
        int,
        typer.Option(
            metavar="N", rich_help_panel=_FAULTS, help="Seed of the fault RNG; same seed, same faults."
        ),
    ] = 0,
) -> None:
    """Run a local, faithful copy of the KrakenFlex API (with optional faults) until Ctrl-C.

    It serves GET /outages, GET /site-info/{siteId} and POST /site-outages/{siteId} at the root of
    http://HOST:PORT, plus GET /_sandbox/site-outages/{siteId} (the last accepted payload; not upstream).

    Environment: none (the sandbox takes only these options)

    Examples:
        outagesync sandbox
        outagesync sandbox --outages 100000 --sites 50 --seed 7
        outagesync sandbox --fail-rate 0.2 --rate-limit 5 --fault-target "POST /site-outages"
    """
    from outagesync.sandbox.data import JSON_STYLES
    from outagesync.sandbox.faults import Target
    from outagesync.sandbox.server import Sandbox

    if json_style not in JSON_STYLES:
        raise typer.BadParameter(f"use one of {', '.join(JSON_STYLES)}", param_hint="--json-style")
    try:
        target = Target.parse(fault_target)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fault-target") from None
    if not target.reaches_an_endpoint():
        raise typer.BadParameter(
            f"{fault_target!r} matches no upstream request; the sandbox serves GET /outages, "
            "GET /site-info/SITE_ID and POST /site-outages/SITE_ID",
            param_hint="--fault-target",
        )
    if dataset is not None and outages is not None:
        raise typer.BadParameter("give either --dataset or --outages, not both", param_hint="--dataset")
    data = _load_data(dataset, outages, devices, sites, seed)
    chosen = _faults(
        target=fault_target,
        latency_ms=latency_ms,
        drop_rate=drop_rate,
        rate_limit=rate_limit,
        retry_after=retry_after,
        fail_first=fail_first,
        fail_rate=fail_rate,
        truncate_rate=truncate_rate,
    )
    sandbox = Sandbox(
        data,
        api_key=api_key,
        faults=chosen,
        fault_seed=fault_seed,
        host=host,
        port=port,
        changing=changing_data,
        json_style=json_style,
    )
    with _request_log_on_stderr():
        _serve(sandbox, data, chosen)


def _serve(sandbox: Sandbox, data: Dataset, chosen: list[Fault]) -> None:
    """Start, say where and how to call it, then wait for Ctrl-C."""
    try:
        sandbox.start()
    except OSError as exc:
        where = f"{sandbox.host}:{sandbox.port}"
        raise typer.BadParameter(
            f"cannot listen on {where}: {exc.strerror or exc}", param_hint="--port"
        ) from None
    is_default = sandbox.api_key == DEFAULT_API_KEY
    key_hint = f"{sandbox.api_key} (the default)" if is_default else "the value given with --api-key"
    _say(f"KrakenFlex sandbox on {sandbox.url} (not the real API); x-api-key: {key_hint}")
    _say(f"  {data.outage_count:,} outages; sites: {_sites_summary(list(data.sites))}")
    if sandbox.changing:
        _say("  changing data: each GET /outages serves a new version (logged as '(version N)')")
    if chosen:
        _say("  faults: " + ", ".join(repr(fault) for fault in chosen))
    _say(f"  try: curl -H 'x-api-key: <key>' {sandbox.url}/outages    (Ctrl-C to stop)")
    try:
        sandbox.wait()
    except KeyboardInterrupt:
        _say("stopping")
    finally:
        sandbox.stop()


def _faults(
    *,
    target: str | None,
    latency_ms: float,
    drop_rate: float,
    rate_limit: int | None,
    retry_after: int | None,
    fail_first: int,
    fail_rate: float,
    truncate_rate: float,
) -> list[Fault]:
    """The flags as faults, in the order they are checked: network first, then gateway, then backend."""
    from outagesync.sandbox import faults

    chosen: list[Fault] = []
    if latency_ms:
        chosen.append(faults.Latency(latency_ms, target))
    if drop_rate:
        chosen.append(faults.DropConnection(drop_rate, target))
    if rate_limit is not None:
        chosen.append(faults.RateLimit(rate_limit, 1.0, retry_after, target))
    if fail_first:
        chosen.append(faults.FailFirst(fail_first, target))
    if fail_rate:
        chosen.append(faults.ServerError(fail_rate, target))
    if truncate_rate:
        chosen.append(faults.TruncatedBody(truncate_rate, target))
    return chosen


def _load_data(
    dataset: Path | None, outages: int | None, devices: int | None, sites: int | None, seed: int
) -> Dataset:
    from outagesync.sandbox.data import load_dataset_file, load_default_dataset
    from outagesync.sandbox.synthetic import generate_dataset

    if dataset is not None:
        try:
            return load_dataset_file(dataset)
        except (OSError, ValueError) as exc:
            raise typer.BadParameter(str(exc), param_hint="--dataset") from None
    if outages is None:
        return load_default_dataset()
    started = time.perf_counter()
    data = generate_dataset(outages, devices, sites, seed)
    elapsed_s = time.perf_counter() - started
    _say(f"generated {outages:,} outages in {elapsed_s:.1f} s ({len(data.outages_body):,} bytes of JSON)")
    return data


def _sites_summary(site_ids: list[str]) -> str:
    shown = ", ".join(site_ids[:5])
    return f"{shown} and {len(site_ids) - 5:,} more" if len(site_ids) > 5 else shown or "none"


@contextlib.contextmanager
def _request_log_on_stderr() -> Iterator[None]:
    """One line per request on stderr (logger "outagesync.sandbox"), uvicorn's warnings too; undone after."""
    import logging  # here, not at the top: the CLI's start-up time is shared by every command

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    levels = {
        logging.getLogger("outagesync.sandbox"): logging.INFO,
        logging.getLogger("uvicorn"): logging.WARNING,
    }
    saved = {logger: (logger.level, logger.propagate) for logger in levels}
    for logger, level in levels.items():
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, (level, propagate) in saved.items():
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate


def _say(text: str) -> None:
    """A line on stderr, unless --quiet (the sandbox's errors end the command through `fail`)."""
    from outagesync.entrypoints.cli.console import is_quiet

    if not is_quiet():
        typer.echo(text, err=True)
