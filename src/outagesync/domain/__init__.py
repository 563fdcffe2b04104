"""The core's pure parts: models, identifier rules, timestamps, the selection rules, the payload. No I/O."""
