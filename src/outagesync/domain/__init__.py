"""The pure core: models, validation of upstream data, the selection rules. No I/O, no clock, no settings."""
