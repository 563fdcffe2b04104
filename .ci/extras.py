"""Print pyproject.toml's extras, comma-separated, but those named after --except (for `make test-min`)."""

import argparse
import tomllib
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--except", dest="excluded", default="", help="comma-separated extras to leave out")
args = parser.parse_args()
excluded = set(args.excluded.split(","))
project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
print(",".join(name for name in project.get("optional-dependencies", {}) if name not in excluded))
