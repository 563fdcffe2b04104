"""KrakenFlexClient: the upstream API over httpx, with timeouts, retries and error translation.

Retried: 5xx, 429, timeouts, connection errors and cut-off bodies, for the GETs and the POST (the POST
replaces the site's list, so repeating it is safe). Not retried: 400, 403, 404 and other 4xx.
Every httpx error is translated into our tree here; none escapes. Bodies are decoded (decode.py) into
domain values before they leave. Sleep, randomness and the clock are injectable: tests assert the
waits the client computes instead of waiting them.
"""

from __future__ import annotations

import asyncio
import io
import logging
import random
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self, TypedDict
from urllib.parse import quote

import httpx
import msgspec
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from outagesync import defaults
from outagesync.adapters.krakenflex.decode import DeviceFilter, OutagesDecoder, decode_site_info
from outagesync.domain.models import (
    OUTAGES_ENDPOINT,
    POST_ENDPOINT,
    SITE_INFO_ENDPOINT,
    DecodedOutages,
    SiteInfo,
    SiteOutage,
)
from outagesync.domain.payload import payload_length, payload_pieces
from outagesync.errors import (
    ApiKeyRejected,
    ConfigError,
    InvalidUpstreamData,
    PayloadRejected,
    UnknownSite,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)
from outagesync.services.ports import Fetched, Posted

log = logging.getLogger("outagesync.upstream")

DETAIL_MAX = 16_384  # characters of an error answer's detail kept in the report
_CUT_OFF = "the response body was cut off (not a complete JSON document)"
Sleep = Callable[[float], Awaitable[None]]
# hears each retry decided: endpoint, the attempt that failed, why, its HTTP status if any, the wait (s)
RetryHook = Callable[[str, int, str, int | None, float], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = defaults.MAX_ATTEMPTS
    backoff_initial_s: float = defaults.BACKOFF_INITIAL_S
    backoff_max_s: float = defaults.BACKOFF_MAX_S
    retry_after_max_s: float = defaults.RETRY_AFTER_MAX_S
    rate_limit_max_attempts: int = defaults.RATE_LIMIT_MAX_ATTEMPTS
    deadline_s: float = defaults.DEADLINE_S


@dataclass(frozen=True, slots=True)
class _Answer:
    response: httpx.Response
    content: bytes  # empty when the body was decoded as it arrived
    decoded: DecodedOutages | None
    attempts: int


class _Transient(Exception):
    """One failed attempt that may succeed if repeated."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after_s: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after_s = retry_after_s


class KrakenFlexClient:
    """The three upstream endpoints. One client per run: its deadline starts when it is made.

    `sleep`, `rng` and `monotonic` are the waits, the jitter and the clock of the retries; `on_wait`
    hears every wait decided (endpoint, seconds) before it is slept, `on_retry` every retry and why;
    `event_hooks` are httpx's (telemetry: per-request metrics, `traceparent`).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_s: float = defaults.TIMEOUT_S,
        policy: RetryPolicy | None = None,
        max_connections: int = 10,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        on_wait: Callable[[str, float], None] | None = None,
        on_retry: RetryHook | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        self._policy = policy or RetryPolicy()
        self._monotonic = monotonic
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._on_wait = on_wait
        self._on_retry = on_retry
        self._deadline = monotonic() + self._policy.deadline_s
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers={"x-api-key": api_key, "accept": "application/json"},
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            follow_redirects=False,
            event_hooks=event_hooks,
            # A plain-HTTP base URL (the sandbox) never negotiates TLS (redirects are not followed), so
            # the CA bundle is not loaded for it: 30-60 ms of start-up. HTTPS is always verified.
            verify=_verify(base_url, ca_bundle),
        )
        url = self._http.base_url
        self._host = f"{url.host}:{url.port}" if url.port else url.host

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def fetch_outages(
        self,
        *,
        skip_invalid: bool = False,
        release_before: datetime | None = None,
        devices: DeviceFilter | None = None,
    ) -> Fetched[DecodedOutages]:
        """Decoded while it downloads (OutagesDecoder): the body is never held whole. A retried
        attempt starts a fresh decoder."""

        def decoder() -> OutagesDecoder:
            return OutagesDecoder(skip_invalid=skip_invalid, release_before=release_before, devices=devices)

        answer = await self._request("GET", "outages", OUTAGES_ENDPOINT, stream_to=decoder)
        assert answer.decoded is not None  # what stream_to gives a successful answer
        return Fetched(answer.decoded, answer.attempts)

    async def fetch_site_info(self, site_id: str) -> Fetched[SiteInfo]:
        path = f"site-info/{quote(site_id, safe='')}"
        answer = await self._request("GET", path, SITE_INFO_ENDPOINT, site_id=site_id)
        with _counting(answer.attempts):
            site = decode_site_info(answer.content, site_id)
        return Fetched(site, answer.attempts)

    async def post_site_outages(self, site_id: str, items: Sequence[SiteOutage]) -> Posted:
        path = f"site-outages/{quote(site_id, safe='')}"
        body = _Body(payload_length(items), lambda: payload_pieces(items))
        answer = await self._request("POST", path, POST_ENDPOINT, site_id=site_id, body=body)
        return Posted(answer.response.status_code, _message_of(answer.content), answer.attempts)

    async def _request(
        self,
        method: str,
        path: str,
        endpoint: str,
        *,
        site_id: str = "",
        body: _Body | None = None,
        stream_to: Callable[[], OutagesDecoder] | None = None,
    ) -> _Answer:
        """The response (its body already read and closed), its body, and the attempts it took.

        With `stream_to`, a successful body is fed to a new decoder as it arrives instead, and the
        answer holds the decoder's outcome.
        """
        state = _Attempts(self._policy, self._deadline, self._monotonic, self._rng)
        headers = {"content-type": "application/json"} if body is not None else None
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Transient),
            wait=state.wait,
            stop=state.stop,
            before_sleep=lambda rs: self._before_sleep(endpoint, rs),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    started = self._monotonic()
                    with _counting(attempts):
                        response, content, decoded = await self._send(method, path, body, headers, stream_to)
                    self._log_answer(f"{method} /{path}", endpoint, response.status_code, attempts, started)
                    _raise_for_status(response, content, endpoint, site_id, attempts)
                    return _Answer(response, content, decoded, attempts)
        except _NotRetried as exc:
            raise UpstreamUnavailable(
                f"{endpoint}: {exc}", endpoint=endpoint, attempts=state.attempts + 1
            ) from None
        except _Transient as exc:
            raise UpstreamUnavailable(
                f"{endpoint}: {exc.reason}; {state.why_stopped()}",
                endpoint=endpoint,
                attempts=state.attempts,
                status=exc.status,
                retry_after_s=exc.retry_after_s,
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _log_answer(self, request: str, endpoint: str, status: int, attempt: int, started: float) -> None:
        """-v: one line per response, e.g. `GET /site-info/kingfisher: 200 in 12 ms (attempt 1/5)`."""
        if log.isEnabledFor(logging.INFO):
            elapsed_ms = (self._monotonic() - started) * 1000
            max_attempts = self._policy.max_attempts
            log.info(
                "%s: %d in %.0f ms (attempt %d/%d)",
                *(request, status, elapsed_ms, attempt, max_attempts),
                extra={"endpoint": endpoint, "attempt": attempt},
            )

    def _before_sleep(self, endpoint: str, rs: RetryCallState) -> None:
        _log_retry(endpoint, rs)
        if self._on_retry is not None:
            exc = _transient_of(rs)
            self._on_retry(endpoint, rs.attempt_number, exc.reason, exc.status, rs.upcoming_sleep)
        if self._on_wait is not None:
            self._on_wait(endpoint, rs.upcoming_sleep)

    async def _send(
        self,
        method: str,
        path: str,
        body: _Body | None,
        headers: dict[str, str] | None,
        stream_to: Callable[[], OutagesDecoder] | None = None,
    ) -> tuple[httpx.Response, bytes, DecodedOutages | None]:
        content: AsyncIterator[bytes] | None = None
        if body is not None:
            # Encoded piece by piece as it is sent, with its length (not chunked): a 66 MB payload is
            # never whole in memory (handing asyncio one such bytes object even made it buffer a copy).
            content, headers = _send_pieces(body), {**(headers or {}), "content-length": str(body.length)}
        try:
            request = self._http.build_request(method, path, content=content, headers=headers)
            response = await self._http.send(request, stream=True)
            try:
                if stream_to is not None and response.is_success:
                    return response, b"", await _decode_streaming(response, stream_to())
                received = await _read(response)
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            raise _Transient(_timeout_reason(exc, self._host)) from None
        except httpx.TransportError as exc:
            raise _transport_failure(exc, self._host) from None
        if response.is_success and method == "GET" and _is_cut_off(received):
            raise _Transient(_CUT_OFF)
        return response, received, None


async def _decode_streaming(response: httpx.Response, decoder: OutagesDecoder) -> DecodedOutages:
    """Feed the body to the decoder as it arrives; a body cut off on the way is a transient failure."""
    async for piece in response.aiter_bytes():
        decoder.feed(piece)
    if decoder.looks_cut_off():
        raise _Transient(_CUT_OFF)
    return decoder.finish()


@contextmanager
def _counting(attempts: int) -> Iterator[None]:
    """A response that fails validation took `attempts` requests too: the report counts them."""
    try:
        yield
    except InvalidUpstreamData as exc:
        exc.attempts = attempts
        raise


async def _read(response: httpx.Response) -> bytes:
    """The (decoded) body, gathered in one growing buffer whose bytes BytesIO hands over without a copy.

    httpx's own read keeps every piece and joins them: two copies of a 114 MB body at once, and the
    pieces' memory then stays with the C allocator, out of reach of Python's.
    """
    buffer = io.BytesIO()
    async for piece in response.aiter_bytes():
        buffer.write(piece)
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class _Body:
    """A request body made as it is sent: its length, and its pieces (anew for each attempt)."""

    length: int
    pieces: Callable[[], Iterator[bytes]]


async def _send_pieces(body: _Body) -> AsyncIterator[bytes]:
    for piece in body.pieces():
        yield piece


class _Attempts:
    """Wait and stop decisions for one request's retries (tenacity calls wait, then stop)."""

    def __init__(
        self, policy: RetryPolicy, deadline: float, monotonic: Callable[[], float], rng: random.Random
    ) -> None:
        self.policy = policy
        self.deadline = deadline
        self.monotonic = monotonic
        self.rng = rng
        self.attempts = 0
        self.rate_limited = 0
        self.reason = ""

    def wait(self, rs: RetryCallState) -> float:
        exc = _transient_of(rs)
        self.attempts = rs.attempt_number
        exponent = 2 ** (rs.attempt_number - 1)
        if exc.status == 429:
            self.rate_limited += 1
            ceiling = min(
                self.policy.backoff_max_s,
                defaults.RATE_LIMIT_SLOWDOWN * self.policy.backoff_initial_s * exponent,
            )
            backoff = ceiling * self.rng.uniform(0.5, 1.0)  # never near zero: a limit needs time to clear
        else:
            backoff = self.rng.uniform(
                0, min(self.policy.backoff_max_s, self.policy.backoff_initial_s * exponent)
            )
        return float(max(backoff, exc.retry_after_s or 0.0))

    def stop(self, rs: RetryCallState) -> bool:
        exc = _transient_of(rs)
        delay = rs.upcoming_sleep
        if rs.attempt_number >= self.policy.max_attempts:
            self.reason = f"gave up after {rs.attempt_number} attempts"
        elif exc.status == 429 and self.rate_limited >= self.policy.rate_limit_max_attempts:
            self.reason = f"still rate limited after {rs.attempt_number} attempts"
        elif exc.retry_after_s is not None and exc.retry_after_s > self.policy.retry_after_max_s:
            self.reason = (
                f"the upstream asks to retry after {exc.retry_after_s:.0f} s (at {_at(exc.retry_after_s)})"
            )
        elif self.monotonic() + delay > self.deadline:
            self.reason = (
                f"the run's deadline ({self.policy.deadline_s:g} s) would pass before the next attempt; "
                f"retry after {_at(delay)}"
            )
        else:
            return False
        return True

    def why_stopped(self) -> str:
        return self.reason or f"gave up after {self.attempts} attempts"


def _transient_of(rs: RetryCallState) -> _Transient:
    exc = rs.outcome.exception() if rs.outcome else None
    assert isinstance(exc, _Transient)  # retry_if_exception_type guarantees it
    return exc


class _Where(TypedDict):
    endpoint: str
    attempts: int
    status: int


def _raise_for_status(
    response: httpx.Response, content: bytes, endpoint: str, site_id: str, attempts: int
) -> None:
    if response.is_success:
        return
    try:
        _raise_for_failure(response, content, endpoint, site_id, attempts)
    except UpstreamError as error:
        error.detail = _detail_of(content)
        raise


def _raise_for_failure(
    response: httpx.Response, content: bytes, endpoint: str, site_id: str, attempts: int
) -> None:
    status = response.status_code
    if status >= 500:
        raise _Transient(f"server error {status}", status=status, retry_after_s=_retry_after(response))
    if status == 429:
        raise _Transient("rate limited (429)", status=status, retry_after_s=_retry_after(response))
    message = _message_of(content) or response.reason_phrase
    where = _Where(endpoint=endpoint, attempts=attempts, status=status)
    if status == 403 and response.headers.get("x-amzn-errortype", "").startswith(_NO_ROUTE):
        raise UpstreamRejected(
            f"{endpoint}: 403 {message} from {_shown(response)}: the API has no such path, so the URL is "
            f"wrong; check the path of KRAKENFLEX_API_URL (the default is {defaults.DEFAULT_API_URL})",
            **where,
        )
    if status == 403:
        raise ApiKeyRejected(f"{endpoint}: the API key was rejected (403); check KRAKENFLEX_API_KEY", **where)
    if status == 404 and not _is_json(content):
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        raise UpstreamRejected(
            f"{endpoint}: 404 from {_shown(response)} with a non-JSON body ({kind}): this is probably not "
            "the KrakenFlex API; check KRAKENFLEX_API_URL",
            **where,
        )
    if status == 404:
        raise UnknownSite(f"unknown site: {site_id} ({endpoint}: 404 {message})", **where)
    if status == 400:
        raise PayloadRejected(message, **where)
    raise UpstreamRejected(f"{endpoint}: the upstream refused the request: {status} {message}", **where)


_NO_ROUTE = "MissingAuthenticationTokenException"  # API Gateway: no route for this path and method
_CA_HINT = "set OUTAGESYNC_CA_BUNDLE (or SSL_CERT_FILE) to a PEM file of the CA that signed its certificate"


class _NotRetried(Exception):
    """A failure that repeating cannot fix (a certificate that does not verify); its text is the reason."""


def _verify(base_url: str, ca_bundle: str | None) -> ssl.SSLContext | bool:
    """What httpx verifies HTTPS with: `ca_bundle`'s CAs if given, else its default (SSL_CERT_FILE or
    certifi); nothing for plain HTTP. ConfigError naming OUTAGESYNC_CA_BUNDLE if it cannot be loaded."""
    if base_url.lower().startswith("http://"):
        return False
    if not ca_bundle:
        return True
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
        raise ConfigError(f"OUTAGESYNC_CA_BUNDLE: cannot load {ca_bundle!r}: {reason}") from None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and the ones it was raised from or during, innermost last."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _timeout_reason(exc: httpx.TimeoutException, host: str) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timed out connecting to {host}"
    return f"timed out waiting for {host}"


def _transport_failure(exc: httpx.TransportError, host: str) -> _Transient | _NotRetried:
    """What went wrong on the way to `host`, in words; a certificate failure is not retried."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            why = cause.verify_message or cause.reason or str(cause)
            return _NotRetried(f"TLS verification of {host} failed: {why}; {_CA_HINT}")
        if isinstance(cause, ssl.SSLError):  # e.g. not TLS at all on that port, or cut during the handshake
            return _Transient(f"connection failed: TLS handshake with {host} failed: {cause.reason or cause}")
        if isinstance(cause, socket.gaierror):
            return _Transient(f"connection failed: the name {host.rsplit(':', 1)[0]} was not resolved (DNS)")
        if isinstance(cause, ConnectionRefusedError):
            return _Transient(f"connection refused by {host} (is the URL's port right?)")
        if isinstance(cause, ConnectionResetError):
            return _Transient(f"connection reset by {host}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return _Transient(f"connection closed by {host} before a complete response")
    return _Transient(f"connection to {host} failed ({type(exc).__name__}: {exc})")


def _shown(response: httpx.Response) -> str:
    """The request's URL without its query, fragment or credentials, for messages."""
    return str(response.request.url.copy_with(query=None, fragment=None, userinfo=b""))


def _is_json(body: bytes) -> bool:
    try:
        msgspec.json.decode(body)
    except msgspec.DecodeError:
        return False
    return True


def _retry_after(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """Retry-After in seconds (delay-seconds, or an HTTP date seen from `now`); zero, past, garbage: None."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - (now or datetime.now(UTC))).total_seconds()
        except (TypeError, ValueError, IndexError):
            return None
    if seconds != seconds or seconds <= 0 or seconds == float("inf"):  # NaN, past, zero, inf
        return None
    return seconds


class _Message(msgspec.Struct):
    message: str


def _message_of(body: bytes) -> str | None:
    """The `message` of a `{"message": ...}` body, or a short excerpt of anything else."""
    if not body:
        return None
    try:
        return msgspec.json.decode(body, type=_Message).message
    except (msgspec.ValidationError, msgspec.DecodeError):
        text = body[:200].decode("utf-8", "replace").strip()
        return text or None


def _detail_of(body: bytes) -> Any:
    """What a JSON error answer says beyond its `message`: its `detail`, else its other fields; None if
    nothing (or not JSON). Kept to DETAIL_MAX characters of JSON: it goes into every report."""
    if not body:
        return None
    try:
        answer = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    if not isinstance(answer, dict):
        detail: Any = answer
    elif "detail" in answer:
        detail = answer["detail"]
    else:
        detail = {key: value for key, value in answer.items() if key != "message"} or None
    if detail is None:
        return None
    if len(msgspec.json.encode(detail)) > DETAIL_MAX:
        text = detail if isinstance(detail, str) else msgspec.json.encode(detail).decode()
        return text[:DETAIL_MAX] + f"… ({len(text) - DETAIL_MAX:,} more characters not kept)"
    return detail


def _is_cut_off(body: bytes) -> bool:
    """A 200 JSON body that does not end with the bracket it opened was cut off on the way."""
    head, tail = body[:64].lstrip()[:1], body[-64:].rstrip()[-1:]
    return (head, tail) not in ((b"[", b"]"), (b"{", b"}"))


def _at(delay_s: float) -> str:
    moment = datetime.now(UTC).timestamp() + delay_s
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _log_retry(endpoint: str, rs: RetryCallState) -> None:
    exc = _transient_of(rs)
    log.warning(
        "%s: %s; retry %d in %.2f s",
        endpoint,
        exc.reason,
        rs.attempt_number,
        rs.upcoming_sleep,
        extra={"endpoint": endpoint, "attempt": rs.attempt_number},  # fields of JSON logs
    )


__all__ = ["KrakenFlexClient", "RetryPolicy", "UpstreamError"]
