"""The REST API fuzzed from its own /openapi.json (schemathesis 4): no server error, responses as documented.

Over real HTTP against a server of its own (the sandbox upstream, a fresh SQLite file). Bounded: a few
derandomized examples per operation and generation mode, so a run takes seconds and a failure replays.
Driven with plain hypothesis (`as_strategy`), not schemathesis' pytest plugin, which breaks on pytest 9.

Schema-valid data must be accepted (`positive_data_acceptance`, ST202), except where a documented rule
cannot be said in JSON Schema: a name of printable characters only, a valid cron schedule, `from`
before `to`, a filter or `all=true` to delete reports, and a cursor made by the server. Those 422s,
known by their `detail`, are let through; any other is a failure.

One 5xx is right, not an error: the sandbox accepts only the list for the default cutoff, so a sync with
a made-up `since` is refused upstream, which the API answers 502 (upstream-rejected-payload), documented.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from outagesync.config import Settings
from tests.e2e.api_server import ApiServer, serving

EXAMPLES_PER_OPERATION = 12
UPSTREAM_REJECTED = "urn:outagesync:problem:upstream-rejected-payload"
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    positive_data_acceptance,
]
# the `detail` of each 422 for a rule the schema cannot state (docs/api.md lists them), as a regex
RULES_BEYOND_THE_SCHEMA = [
    re.escape("invalid site name: use at most 200 printable characters"),
    re.escape("invalid time range: the start must come before the end"),
    re.escape("query.all: give a filter (site, status, from, to) or all=true to delete every report"),
    r"invalid cursor '[A-Za-z0-9_-]+': pass the next_cursor of a previous page",  # opaque: made by us only
    r"(?s)invalid schedule .*: use a 5-field cron expression in UTC, "
    + re.escape("e.g. '*/15 * * * *' (every 15 minutes)"),
]


def _checks_for(response: Any) -> list[Any]:
    """Every check; positive data may meet one of the rules beyond the schema, and be refused for it."""
    detail = response.json().get("detail", "") if response.status_code == 422 else ""
    if any(re.fullmatch(rule, detail) for rule in RULES_BEYOND_THE_SCHEMA):
        return [check for check in CHECKS if check is not positive_data_acceptance]
    return CHECKS


@pytest.fixture
def fuzzed_server(private_settings: Settings) -> Iterator[ApiServer]:
    # A short deadline per run: the fuzzer's made-up site ids meet real (sandbox) 404s, never long waits.
    with serving(private_settings.model_copy(update={"deadline": 5.0})) as server:
        yield server


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_the_api_keeps_its_documented_contract(
    fuzzed_server: ApiServer, api_token: str, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(fuzzed_server.url + "/openapi.json")
    headers = {"Authorization": f"Bearer {api_token}"}
    failures: list[str] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the schema itself is valid
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=_checks_for(response), headers=headers)
            if response.status_code >= 500:
                assert response.json()["type"] == UPSTREAM_REJECTED, f"server error: {response.text}"

        try:
            conforms()
        except Unsatisfiable:  # negative mode, and the operation takes no input there is to break
            assert mode is GenerationMode.NEGATIVE, operation.label
        except (
            AssertionError,
            FailureGroup,
        ) as exc:  # every operation is tried; failures are listed together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
