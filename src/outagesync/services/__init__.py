"""The use cases, the only thing entrypoints call. No printing, settings, HTTP statuses or exit codes."""
