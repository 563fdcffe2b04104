"""Fault injection: what can go wrong (500s, throttling, latency, broken bodies, dropped connections).

Faults are plain values; a FaultInjector turns them into one Decision per request, reproducibly for a seed.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

INTERNAL_ERROR_BODY = b'{"message":"Internal server error"}'  # what API Gateway answers for a failed backend
THROTTLED_BODY = b'{"message":"Too Many Requests"}'  # API Gateway's throttling answer
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Target:
    """Which requests a fault applies to: "GET /outages", "POST /site-outages", "/site-info", "POST", all."""

    method: str | None = None
    path_prefix: str = "/"

    @classmethod
    def parse(cls, text: str | None) -> Target:
        """Parse "[METHOD] [/path-prefix]"; None or "" targets every upstream request."""
        words = (text or "").split()
        method = words.pop(0).upper() if words and not words[0].startswith("/") else None
        if len(words) > 1 or (words and not words[0].startswith("/")) or (method and method not in _METHODS):
            raise ValueError(
                f"a fault target is 'METHOD /path-prefix', 'METHOD' or '/path-prefix', not {text!r}"
            )
        return cls(method, words[0] if words else "/")

    def matches(self, method: str, path: str) -> bool:
        prefix = self.path_prefix.rstrip("/")
        in_path = not prefix or path == prefix or path.startswith(prefix + "/")
        return in_path and self.method in (None, method)

    def reaches_an_endpoint(self) -> bool:
        """Whether any upstream request can match: a target no request matches is a mistake."""
        prefix = self.path_prefix.rstrip("/")
        for method, root in _ENDPOINTS:
            if self.method not in (None, method):
                continue
            if not prefix or root == prefix or root.startswith(prefix + "/"):
                return True
            if root != "/outages" and prefix.startswith(root + "/"):  # one site's requests
                return True
        return False


_ENDPOINTS = (("GET", "/outages"), ("GET", "/site-info"), ("POST", "/site-outages"))


def _check_rate(rate: float) -> None:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"a fault rate is a probability between 0 and 1, not {rate}")


@dataclass(frozen=True, slots=True)
class ServerError:
    """Answer 500 with probability `rate` (drawn from the seeded RNG); `body` may be anything, e.g. HTML."""

    rate: float = 1.0
    target: str | None = None
    body: bytes = INTERNAL_ERROR_BODY

    def __post_init__(self) -> None:
        _check_rate(self.rate)
        Target.parse(self.target)


@dataclass(frozen=True, slots=True)
class FailFirst:
    """Answer 500 to the first `count` matching requests, then behave."""

    count: int
    target: str | None = None

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError(f"FailFirst count must be >= 0, not {self.count}")
        Target.parse(self.target)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Allow `requests` matching requests per `per_s` seconds (sliding window); beyond, 429 + Retry-After.

    `retry_after_s` None: the whole seconds until the window has room again (at least 1).
    """

    requests: int
    per_s: float = 1.0
    retry_after_s: int | None = None
    target: str | None = None

    def __post_init__(self) -> None:
        if self.requests < 1 or self.per_s <= 0:
            raise ValueError("RateLimit needs requests >= 1 and per_s > 0")
        if self.retry_after_s is not None and self.retry_after_s < 0:
            raise ValueError("RateLimit retry_after_s must be >= 0")
        Target.parse(self.target)


@dataclass(frozen=True, slots=True)
class Latency:
    """Wait `ms` milliseconds before answering (several matching Latency faults add up)."""

    ms: float
    target: str | None = None

    def __post_init__(self) -> None:
        if self.ms < 0:
            raise ValueError(f"Latency ms must be >= 0, not {self.ms}")
        Target.parse(self.target)


@dataclass(frozen=True, slots=True)
class TruncatedBody:
    """With probability `rate`, a 200 answer keeps its status but its body is cut in half (invalid JSON)."""

    rate: float = 1.0
    target: str | None = None

    def __post_init__(self) -> None:
        _check_rate(self.rate)
        Target.parse(self.target)


@dataclass(frozen=True, slots=True)
class DropConnection:
    """With probability `rate`, close the connection without sending any response."""

    rate: float = 1.0
    target: str | None = None

    def __post_init__(self) -> None:
        _check_rate(self.rate)
        Target.parse(self.target)


Fault = ServerError | FailFirst | RateLimit | Latency | TruncatedBody | DropConnection


@dataclass(frozen=True, slots=True)
class Decision:
    """What the faults do to one request: a delay, then at most one of: drop, an error answer, truncation."""

    latency_s: float = 0.0
    drop: bool = False
    status: int | None = None  # answer this (429 or 500) instead of the real response
    body: bytes = b""
    retry_after_s: int | None = None
    truncate: bool = False
    fault: str | None = None  # the name of the fault that fired, for the request log


@dataclass(slots=True)
class _Armed:
    """A fault with its target parsed and its own running state."""

    fault: Fault
    target: Target
    seen: int = 0
    allowed_at: deque[float] = field(default_factory=deque)


class FaultInjector:
    """Decides, request by request, which faults fire. Call `decide` from one thread (the server's).

    The delays of all matching Latency faults add up; of the other matching faults, the first in the order
    given that fires decides the answer. Probabilistic faults draw from one RNG seeded with `seed`, so the
    same sequence of requests meets the same faults.
    """

    def __init__(
        self, faults: Iterable[Fault] = (), seed: int = 0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.faults = tuple(faults)
        self.seed = seed
        self._armed = [_Armed(fault, Target.parse(fault.target)) for fault in self.faults]
        self._random = random.Random(seed).random
        self._clock = clock

    def decide(self, method: str, path: str) -> Decision:
        matching = [armed for armed in self._armed if armed.target.matches(method, path)]
        latency_s = sum(armed.fault.ms for armed in matching if isinstance(armed.fault, Latency)) / 1000
        for armed in matching:
            decision = self._fire(armed, latency_s)
            if decision is not None:
                return decision
        return Decision(latency_s=latency_s, fault="latency" if latency_s else None)

    def _fire(self, armed: _Armed, latency_s: float) -> Decision | None:
        fault = armed.fault
        if isinstance(fault, FailFirst):
            armed.seen += 1
            if armed.seen <= fault.count:
                return Decision(latency_s, status=500, body=INTERNAL_ERROR_BODY, fault="fail-first")
        elif isinstance(fault, RateLimit):
            return self._throttle(armed, fault, latency_s)
        elif isinstance(fault, ServerError):
            if self._random() < fault.rate:
                return Decision(latency_s, status=500, body=fault.body, fault="server-error")
        elif isinstance(fault, TruncatedBody):
            if self._random() < fault.rate:
                return Decision(latency_s, truncate=True, fault="truncated-body")
        elif isinstance(fault, DropConnection) and self._random() < fault.rate:
            return Decision(latency_s, drop=True, fault="dropped-connection")
        return None

    def _throttle(self, armed: _Armed, fault: RateLimit, latency_s: float) -> Decision | None:
        now = self._clock()
        window = armed.allowed_at
        while window and now - window[0] >= fault.per_s:
            window.popleft()
        if len(window) < fault.requests:
            window.append(now)
            return None
        retry_after_s = fault.retry_after_s
        if retry_after_s is None:
            retry_after_s = max(1, math.ceil(window[0] + fault.per_s - now))
        return Decision(
            latency_s, status=429, body=THROTTLED_BODY, retry_after_s=retry_after_s, fault="rate-limit"
        )
