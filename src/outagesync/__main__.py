"""`python -m outagesync`: the same as the `outagesync` command."""

from outagesync.entrypoints.cli import main

main()
