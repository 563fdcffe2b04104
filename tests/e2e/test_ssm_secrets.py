"""Secrets from AWS SSM Parameter Store, end to end: moto's server (`moto_server`, a real process on
127.0.0.1) holds the parameters; the real CLI and `serve` read them at start-up over HTTP.

moto is in the `test` extra; without it these tests skip, and fail when CI=true.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from outagesync.config import load_settings
from outagesync.errors import ConfigError
from outagesync.sandbox import Sandbox
from tests.e2e.test_api_serve import serving_process

REGION = "us-east-1"
CANNOT_READ = "error: cannot read the SSM parameter {name!r} named by {variable}: "


def _moto_server() -> str:
    found = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    if not Path(found).exists():
        reason = "moto_server is not installed: pip install -e '.[test]' (make install-dev)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: the SSM tests must run)")
        pytest.skip(reason)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_moto(**env: str) -> Iterator[str]:
    """A moto server on 127.0.0.1 (a port of its own) until the block ends; its URL."""
    command = _moto_server()
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 (our own moto_server)
        [command, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/moto-api/", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("moto_server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def ssm_url() -> Iterator[str]:
    with running_moto() as url:
        yield url


def _client(url: str, service: str = "ssm", key_id: str = "testing", secret: str = "testing") -> Any:  # noqa: S107
    import boto3

    return boto3.session.Session().client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )


def _put(url: str, value: str) -> str:
    """A new SecureString parameter holding `value`; its name."""
    name = f"/outagesync/test/{uuid.uuid4().hex}"
    _client(url).put_parameter(Name=name, Value=value, Type="SecureString")
    return name


@pytest.fixture
def aws_env(
    ssm_url: str, tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The environment of a process reading SSM at moto: no variable of ours nor of AWS but these, no
    AWS config files, no instance metadata (off the loopback); the sandbox upstream, a SQLite file."""
    monkeypatch.chdir(tmp_path)  # no .env
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_", "AWS_"))
    }
    return env | {
        "AWS_ENDPOINT_URL_SSM": ssm_url,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "KRAKENFLEX_API_URL": sandbox.url,
        "OUTAGESYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'reports.db'}",
        "OUTAGESYNC_BACKOFF_INITIAL": "0.01",
        "OUTAGESYNC_BACKOFF_MAX": "0.05",
    }


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own command)
        [sys.executable, "-m", "outagesync", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _secret() -> str:
    return f"ssm-secret-{uuid.uuid4().hex}"


def test_an_api_key_read_from_ssm_gets_an_accepted_post_and_is_shown_nowhere(
    aws_env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    key = _secret()
    sandbox.api_key = key
    env = aws_env | {"KRAKENFLEX_API_KEY_SSM_PARAMETER": _put(aws_env["AWS_ENDPOINT_URL_SSM"], key)}
    synced = _run(env, "-vv", "sync", "--json")
    assert synced.returncode == 0, synced.stderr
    assert len(sandbox.accepted("norwich-pear-tree") or []) == 10
    listed = _run(env, "reports", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("reports.db*"))
    assert key not in synced.stdout + synced.stderr + listed.stdout + listed.stderr
    assert key.encode() not in stored
    assert '"post_status":200' in synced.stdout.replace(" ", "")


def test_load_settings_says_which_settings_came_from_ssm(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = aws_env["AWS_ENDPOINT_URL_SSM"]
    key, token, database = _secret(), _secret(), f"sqlite:///{uuid.uuid4().hex}.db"
    names = {"KRAKENFLEX_API_KEY": _put(url, key), "OUTAGESYNC_API_TOKEN": _put(url, token)}
    names["OUTAGESYNC_DATABASE_URL"] = _put(url, database)
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in aws_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OUTAGESYNC_DATABASE_URL")
    for variable, parameter in names.items():
        monkeypatch.setenv(f"{variable}_SSM_PARAMETER", parameter)
    settings = load_settings()
    assert settings.ssm_sources() == names
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == key
    assert settings.api_token is not None
    assert settings.api_token.get_secret_value() == token
    assert settings.database_url == database
    assert key not in repr(settings)
    assert token not in repr(settings)


def test_a_value_read_from_ssm_is_validated_without_being_shown(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "short-t0ken"
    for name, value in aws_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OUTAGESYNC_API_TOKEN_SSM_PARAMETER", _put(aws_env["AWS_ENDPOINT_URL_SSM"], token))
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == (
        "invalid configuration: OUTAGESYNC_API_TOKEN: is shorter than 16 characters: make one "
        "with `python -c 'import secrets; print(secrets.token_urlsafe(32))'` (read from SSM Parameter Store)"
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KRAKENFLEX_API_KEY", "a-key"),
        ("OUTAGESYNC_API_TOKEN", "a-token-of-20-chars!"),
        ("OUTAGESYNC_DATABASE_URL", "sqlite:///elsewhere.db"),
    ],
)
def test_a_value_and_its_parameter_both_set_is_a_configuration_error(
    aws_env: dict[str, str], variable: str, value: str
) -> None:
    env = aws_env | {variable: value, f"{variable}_SSM_PARAMETER": "/outagesync/whatever"}
    result = _run(env, "sync")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {variable} and {variable}_SSM_PARAMETER are both set: keep one (the value, or the name "
        "of the SSM parameter that holds it)\n"
    )


def test_a_missing_parameter_exits_2_naming_it(aws_env: dict[str, str]) -> None:
    name = f"/outagesync/test/missing-{uuid.uuid4().hex}"
    result = _run(aws_env | {"KRAKENFLEX_API_KEY_SSM_PARAMETER": name}, "sync")
    variable = "KRAKENFLEX_API_KEY_SSM_PARAMETER"
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        CANNOT_READ.format(name=name, variable=variable) + f"the parameter does not exist (region {REGION})\n"
    )


def test_no_region_exits_2(aws_env: dict[str, str]) -> None:
    env = {name: value for name, value in aws_env.items() if name != "AWS_REGION"}
    name = _put(aws_env["AWS_ENDPOINT_URL_SSM"], _secret())
    result = _run(env | {"OUTAGESYNC_API_TOKEN_SSM_PARAMETER": name}, "sync")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        CANNOT_READ.format(name=name, variable="OUTAGESYNC_API_TOKEN_SSM_PARAMETER")
        + "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a region in the AWS profile)\n"
    )


def test_no_credentials_exits_2(aws_env: dict[str, str]) -> None:
    env = {name: value for name, value in aws_env.items() if not name.startswith("AWS_SECRET")}
    del env["AWS_ACCESS_KEY_ID"]
    name = _put(aws_env["AWS_ENDPOINT_URL_SSM"], _secret())
    del env["OUTAGESYNC_DATABASE_URL"]
    result = _run(env | {"OUTAGESYNC_DATABASE_URL_SSM_PARAMETER": name}, "sync")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        CANNOT_READ.format(name=name, variable="OUTAGESYNC_DATABASE_URL_SSM_PARAMETER")
        + "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, "
        "or run with an instance or task role\n"
    )


def test_access_denied_exits_2_without_the_value(aws_env: dict[str, str]) -> None:
    # moto enforces IAM once its first 3 actions are done: the parameter, a user without any policy, its key
    with running_moto(INITIAL_NO_AUTH_ACTION_COUNT="3") as url:
        value = _secret()
        name = _put(url, value)
        iam = _client(url, "iam")
        iam.create_user(UserName="reader")
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        env = aws_env | {
            "AWS_ENDPOINT_URL_SSM": url,
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "KRAKENFLEX_API_KEY_SSM_PARAMETER": name,
        }
        result = _run(env, "sync")
    assert (result.returncode, result.stdout) == (2, "")
    prefix = CANNOT_READ.format(name=name, variable="KRAKENFLEX_API_KEY_SSM_PARAMETER")
    assert result.stderr == (
        prefix + "access denied (AccessDenied): User: arn:aws:iam::123456789012:user/reader is not "
        "authorized to perform: ssm:GetParameter\n"
    )


def test_without_the_aws_extra_a_parameter_is_a_configuration_error(aws_env: dict[str, str]) -> None:
    # boto3 made unimportable in that process only, as when `outagesync[aws]` is not installed
    script = "import sys; sys.modules['boto3'] = None; from outagesync.entrypoints.cli import main; main()"
    env = aws_env | {"KRAKENFLEX_API_KEY_SSM_PARAMETER": "/outagesync/api-key"}
    result = subprocess.run(  # noqa: S603 (our own command)
        [sys.executable, "-c", script, "sync"], env=env, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: KRAKENFLEX_API_KEY_SSM_PARAMETER is set but the aws extra is not installed: "
        "pip install 'outagesync[aws]' (or unset KRAKENFLEX_API_KEY_SSM_PARAMETER)\n"
    )


def test_serve_takes_its_token_from_ssm_and_never_shows_it(aws_env: dict[str, str]) -> None:
    token = _secret()
    env = aws_env | {"OUTAGESYNC_API_TOKEN_SSM_PARAMETER": _put(aws_env["AWS_ENDPOINT_URL_SSM"], token)}
    with serving_process(env) as served:
        base = f"http://127.0.0.1:{served.port}"
        allowed = httpx.get(f"{base}/sites", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        refused = httpx.get(
            f"{base}/sites", headers={"Authorization": "Bearer not-the-token-at-all"}, timeout=30
        )
    assert (allowed.status_code, refused.status_code) == (200, 401)
    assert served.process.returncode == 0
    assert not any(token in line for line in served.output)


def test_serve_exits_2_when_its_token_parameter_is_missing(aws_env: dict[str, str]) -> None:
    name = f"/outagesync/test/missing-{uuid.uuid4().hex}"
    process = subprocess.Popen(
        [sys.executable, "-m", "outagesync", "serve", "--port", "0"],
        env=aws_env | {"OUTAGESYNC_API_TOKEN_SSM_PARAMETER": name},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    assert (process.returncode, stdout) == (2, "")
    assert stderr == (
        CANNOT_READ.format(name=name, variable="OUTAGESYNC_API_TOKEN_SSM_PARAMETER")
        + f"the parameter does not exist (region {REGION})\n"
    )


def test_the_python_api_reads_a_secret_named_in_its_settings(
    aws_env: dict[str, str], sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import outagesync

    for name in ("AWS_ENDPOINT_URL_SSM", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CONFIG_FILE"):
        monkeypatch.setenv(name, aws_env[name])
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    key = _secret()
    sandbox.api_key = key
    settings = outagesync.Settings(
        api_url=sandbox.url,
        api_key_ssm_parameter=_put(aws_env["AWS_ENDPOINT_URL_SSM"], key),
        aws_region=REGION,
        database_url=f"sqlite:///{tmp_path / 'python.db'}",
    )
    report = outagesync.sync(["norwich-pear-tree"], settings=settings)
    assert report.ok
    assert len(sandbox.accepted("norwich-pear-tree") or []) == 10
