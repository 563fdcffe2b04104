"""Measuring tools for the benchmarks: a sandbox in its own process, child runs with their peak RSS.

Every measured program runs in a fresh child process so that its peak RSS is its own (os.wait4's
rusage of that one child); the sandbox runs in another process so that its CPU never mixes with it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
ENDPOINTS = ("GET /outages", "GET /site-info", "POST /site-outages")


@dataclass(frozen=True, slots=True)
class ChildRun:
    """One run of a measured child: its own timing (`work_s`), the process's wall and CPU time, peak RSS."""

    work_s: float
    process_s: float
    cpu_s: float
    peak_rss_bytes: int
    output: dict[str, Any]


def run_child(args: list[str], env: dict[str, str] | None = None, timeout_s: float = 900) -> ChildRun:
    """Run `args` to completion; RuntimeError with its stderr if it fails or prints no JSON line."""
    with tempfile.TemporaryFile() as stdout:
        returncode, process_s, usage, errors = _run(args, env, timeout_s, stdout)
        stdout.seek(0)
        lines = stdout.read().decode().strip().splitlines()
    if returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(args)} failed ({returncode}):\n{errors[-3000:]}")
    output = json.loads(lines[-1])
    if not output.get("ok"):
        raise RuntimeError(f"{' '.join(args)} reported a failure: {output}")
    cpu_s = usage.ru_utime + usage.ru_stime
    return ChildRun(output["work_s"], process_s, cpu_s, usage.ru_maxrss * 1024, output)


def run_command(args: list[str], env: dict[str, str] | None = None, timeout_s: float = 900) -> ChildRun:
    """Run a command whose output is not ours to read (e.g. `outagesync sync --json`); exit 0 required.

    Its work time is its whole process's wall time, start-up included.
    """
    with tempfile.TemporaryFile() as stdout:
        returncode, process_s, usage, errors = _run(args, env, timeout_s, stdout)
    if returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])}... failed ({returncode}):\n{errors[-3000:]}")
    cpu_s = usage.ru_utime + usage.ru_stime
    return ChildRun(process_s, process_s, cpu_s, usage.ru_maxrss * 1024, {})


def _run(
    args: list[str], env: dict[str, str] | None, timeout_s: float, stdout: IO[bytes]
) -> tuple[int, float, resource.struct_rusage, str]:
    """(exit code, wall time, the child's own rusage, its stderr) of one run."""
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=stdout, stderr=stderr, env=env)
        killer = threading.Timer(timeout_s, proc.kill)  # wait4 below must reap it, not Popen.wait
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # the rusage of this one child
        finally:
            killer.cancel()
        process_s = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        return proc.returncode, process_s, usage, stderr.read().decode(errors="replace")


class SandboxProcess:
    """`benchmarks/sandbox_runner.py` in a child process, serving a synthetic dataset until closed."""

    def __init__(
        self,
        *,
        outages: int,
        devices: int,
        sites: int,
        seed: int = 0,
        latency_ms: float = 0,
        json_style: str = "compact",
    ) -> None:
        self.args = [
            PYTHON,
            str(HERE / "sandbox_runner.py"),
            f"--outages={outages}",
            f"--devices={devices}",
            f"--sites={sites}",
            f"--seed={seed}",
            f"--latency-ms={latency_ms}",
            f"--json-style={json_style}",
        ]
        self._proc: subprocess.Popen[bytes] | None = None
        self.ready: dict[str, Any] = {}

    def __enter__(self) -> Self:
        self._proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the sandbox did not start: {' '.join(self.args)}")
        self.ready = json.loads(line)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()  # the runner exits at EOF
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    @property
    def url(self) -> str:
        return str(self.ready["url"])

    @property
    def site_ids(self) -> list[str]:
        return list(self.ready["site_ids"])

    @property
    def outages_body_bytes(self) -> int:
        return int(self.ready["outages_body_bytes"])

    def env(self) -> dict[str, str]:
        """The environment of a client pointed at this sandbox.

        Bytecode is cached as an installed program's is (a warm-up run writes it): with
        PYTHONDONTWRITEBYTECODE set, as on some development machines, every run of an editable install
        compiles our modules from source again (about 0.1 s).
        """
        inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        return {**inherited, "KRAKENFLEX_API_URL": self.url, "KRAKENFLEX_API_KEY": self.ready["api_key"]}

    def request_log(self) -> list[dict[str, Any]]:
        """Every upstream request the sandbox answered so far (its /_sandbox/requests read-back)."""
        records: list[dict[str, Any]] = json.loads(self._read_back("/_sandbox/requests"))
        return records

    def accepted_body(self, site_id: str) -> bytes:
        """The site's last accepted payload, compact (the bytes outagesync posts: the floor replays them)."""
        return self._read_back(f"/_sandbox/site-outages/{site_id}")

    def _read_back(self, path: str) -> bytes:
        url = self.url + path  # http://127.0.0.1:<port>, from our own runner
        request = urllib.request.Request(url, headers={"x-api-key": self.ready["api_key"]})  # noqa: S310
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            body: bytes = response.read()
        return body


@dataclass(frozen=True, slots=True)
class Traffic:
    """What one run did to the sandbox: requests per endpoint, non-200 answers, server time per endpoint."""

    requests: dict[str, int]
    errors: int
    server_ms: dict[str, float]


def traffic_of(records: list[dict[str, Any]]) -> Traffic:
    requests: Counter[str] = Counter()
    server_ms: Counter[str] = Counter()
    for record in records:
        endpoint = next((e for e in ENDPOINTS if _matches(e, record)), f"{record['method']} other")
        requests[endpoint] += 1
        server_ms[endpoint] += record["duration_ms"]
    errors = sum(1 for record in records if record["status"] != 200)
    return Traffic(dict(requests), errors, {e: round(ms, 1) for e, ms in server_ms.items()})


def _matches(endpoint: str, record: dict[str, Any]) -> bool:
    method, path = endpoint.split(" ")
    return bool(
        record["method"] == method and (record["path"] == path or record["path"].startswith(path + "/"))
    )
