"""Every error code of outagesync.errors has a CLI exit code and a REST problem type, and no two share one."""

from __future__ import annotations

import pytest

from outagesync import errors
from outagesync.entrypoints.api.problems import PROBLEMS, TYPE_PREFIX, problem_of
from outagesync.entrypoints.cli.exit_codes import EXIT_CODES, ExitCode, exit_code_of

CLASSES = errors.error_classes()
CODES = [cls.code for cls in CLASSES]


def test_the_tree_is_found_whole() -> None:
    assert CLASSES[0] is errors.OutageSyncError
    public = {
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.OutageSyncError)
    }
    assert set(CLASSES) == public
    assert len(CLASSES) == len(public) == 19


def test_every_class_has_its_own_code() -> None:
    assert len(set(CODES)) == len(CODES)
    # each subclass sets its own: none inherits its parent's
    parents = {cls: cls.__mro__[1] for cls in CLASSES[1:]}
    assert all(issubclass(parent, errors.OutageSyncError) for parent in parents.values())
    assert [cls for cls, parent in parents.items() if cls.code == getattr(parent, "code", None)] == []


def test_every_code_has_an_exit_code_and_a_problem_type_and_nothing_else_does() -> None:
    assert sorted(EXIT_CODES) == sorted(CODES)
    assert sorted(PROBLEMS) == sorted(CODES)


@pytest.mark.parametrize("cls", CLASSES, ids=CODES)
def test_each_code_row_is_its_own(cls: type[errors.OutageSyncError]) -> None:
    problem = PROBLEMS[cls.code]
    assert problem.slug == cls.code
    assert problem.uri == TYPE_PREFIX + cls.code
    assert problem_of(cls.code) is problem
    assert 400 <= problem.status <= 599


@pytest.mark.parametrize(
    ("exc", "code", "exit_code", "status"),
    [
        (errors.InvalidSiteId("invalid site id 'a b'"), "invalid-site-id", 2, 422),
        (errors.InvalidInput("bad --since"), "invalid-request", 2, 422),
        (errors.ConfigError("no API key"), "config-error", 2, 503),
        (errors.UnknownSite("unknown site: x", status=404), "unknown-site", 1, 404),
        (errors.UpstreamUnavailable("GET /outages: timed out"), "upstream-unavailable", 1, 504),
        (errors.ApiKeyRejected("the API key was rejected"), "upstream-key-rejected", 1, 502),
        (errors.PayloadRejected("bad item", status=400), "upstream-rejected-payload", 1, 502),
        (errors.UpstreamRejected("409 conflict"), "upstream-rejected", 1, 502),
        (errors.InvalidUpstreamData("GET /outages", "not a list"), "invalid-upstream-data", 1, 502),
        (errors.StorageError("database is locked"), "storage-unavailable", 1, 503),
        (errors.ReportNotFound("no report"), "report-not-found", 1, 404),
        (errors.SiteNotManaged("no managed site"), "site-not-managed", 1, 404),
        (errors.SiteAlreadyManaged("already managed"), "site-already-managed", 1, 409),
        (errors.SiteBusy("busy"), "site-busy", 1, 409),
        (errors.EmptyListRefused("would clear"), "empty-list-refused", 1, 409),
        (errors.RunInterrupted("interrupted"), "interrupted", 130, 503),
        (errors.OutageSyncError("something"), "internal-error", 1, 500),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_exact_exit_codes_and_http_statuses(
    exc: errors.OutageSyncError, code: str, exit_code: int, status: int
) -> None:
    assert exc.code == code
    assert exit_code_of(exc) == exit_code
    assert PROBLEMS[code].status == status


def test_the_exit_codes_are_the_documented_ones() -> None:
    assert [int(code) for code in ExitCode] == [0, 1, 2, 129, 130, 143]
    assert set(EXIT_CODES.values()) == {ExitCode.FAILED, ExitCode.USAGE, ExitCode.INTERRUPTED}


def test_an_unknown_code_from_an_old_report_is_a_502() -> None:
    assert problem_of("some-retired-code") is PROBLEMS["upstream-error"]
    assert PROBLEMS["upstream-error"].status == 502
