"""The CLI's exit codes: the one table, from each error code of `outagesync.errors` to its exit code.

0    every site's POST was accepted (or, on a dry run, every site was computed)
1    at least one site failed, or the run report could not be stored, or any other failure
2    usage or configuration error (bad flag or setting, no API key, invalid site id)
130  interrupted (Ctrl-C); sites not finished are stored as `interrupted`
"""

from __future__ import annotations

from enum import IntEnum

from outagesync import errors


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    HUNG_UP = 129  # 128 + SIGHUP
    INTERRUPTED = 130  # 128 + SIGINT
    TERMINATED = 143  # 128 + SIGTERM


EXIT_CODES: dict[str, ExitCode] = {
    errors.OutageSyncError.code: ExitCode.FAILED,
    errors.ConfigError.code: ExitCode.USAGE,
    errors.InvalidInput.code: ExitCode.USAGE,
    errors.InvalidSiteId.code: ExitCode.USAGE,
    errors.UpstreamError.code: ExitCode.FAILED,
    errors.ApiKeyRejected.code: ExitCode.FAILED,
    errors.UnknownSite.code: ExitCode.FAILED,
    errors.PayloadRejected.code: ExitCode.FAILED,
    errors.UpstreamRejected.code: ExitCode.FAILED,
    errors.UpstreamUnavailable.code: ExitCode.FAILED,
    errors.InvalidUpstreamData.code: ExitCode.FAILED,
    errors.StorageError.code: ExitCode.FAILED,
    errors.ReportNotFound.code: ExitCode.FAILED,
    errors.JobNotFound.code: ExitCode.FAILED,
    errors.SiteNotManaged.code: ExitCode.FAILED,
    errors.SiteAlreadyManaged.code: ExitCode.FAILED,
    errors.SiteBusy.code: ExitCode.FAILED,
    errors.EmptyListRefused.code: ExitCode.FAILED,
    errors.RunInterrupted.code: ExitCode.INTERRUPTED,
}


def exit_code_of(exc: errors.OutageSyncError) -> ExitCode:
    """The exit code for an error (every code is in the table; its test checks the whole tree)."""
    return EXIT_CODES[exc.code]
