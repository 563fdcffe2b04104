"""The public surface (`outagesync.__all__`) is a promise: its names and signatures change only on purpose.

The snapshot in tests/data/public_api.json is the promise as released. A name may leave `__all__` only
when CHANGELOG.md says so under a `### Removed` heading; any change needs the snapshot updated:
`OUTAGESYNC_UPDATE_PUBLIC_API=1 pytest tests/unit/test_public_api.py`.
"""

from __future__ import annotations

import enum
import inspect
import json
import os
import re
from pathlib import Path

import outagesync

ROOT = Path(__file__).parent.parent.parent
SNAPSHOT = ROOT / "tests" / "data" / "public_api.json"


def _describe(name: str) -> str:
    value = getattr(outagesync, name)
    if name == "__version__":
        return "str"
    if inspect.ismodule(value):
        return "module"
    if inspect.isclass(value) and issubclass(value, enum.Enum):
        return "enum " + ", ".join(member.value for member in value)
    if inspect.isclass(value) and issubclass(value, BaseException):
        return "exception"
    if inspect.isclass(value):
        methods = {
            n: str(inspect.signature(v))
            for n, v in vars(value).items()
            if not n.startswith("_") and callable(v)
        }
        fields = (
            getattr(value, "__dataclass_fields__", None)
            or getattr(value, "__struct_fields__", None)
            or getattr(value, "model_fields", None)
            or {}
        )
        return f"class fields={sorted(fields)} methods={dict(sorted(methods.items()))}"
    return f"{'async ' if inspect.iscoroutinefunction(value) else ''}def {inspect.signature(value)}"


def _surface() -> dict[str, str]:
    return {name: _describe(name) for name in sorted(outagesync.__all__)}


def test_the_public_surface_matches_its_snapshot() -> None:
    surface = _surface()
    if os.environ.get("OUTAGESYNC_UPDATE_PUBLIC_API") == "1":
        SNAPSHOT.write_text(json.dumps(surface, indent=2) + "\n")
    assert surface == json.loads(SNAPSHOT.read_text()), (
        "the public API changed: update tests/data/public_api.json (see this module's docstring) and say "
        "so in CHANGELOG.md"
    )


def test_a_name_leaves_the_surface_only_with_a_changelog_entry() -> None:
    released = set(json.loads(SNAPSHOT.read_text()))
    changelog = (ROOT / "CHANGELOG.md").read_text()
    removed_sections = re.findall(r"^### Removed\n(.*?)(?=^#|\Z)", changelog, flags=re.M | re.S)
    announced = set(re.findall(r"`([A-Za-z_]+)`", "".join(removed_sections)))
    assert released - set(outagesync.__all__) <= announced


def test_every_public_name_resolves() -> None:
    for name in outagesync.__all__:
        assert getattr(outagesync, name) is not None, name
    assert set(dir(outagesync)) >= set(outagesync.__all__)
