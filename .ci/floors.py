"""Print the lowest version of every dependency pyproject.toml declares, as pip requirements.

`>=X` becomes `==X`, so the floors CI job (`make test-floors`) installs exactly the versions the
code says it needs and runs the unit tests on them. Extras listed on the command line (e.g. `dev`)
are included; lint-only tools (ruff, mypy, type stubs) are left out, since the floor job does not lint.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

LINT_ONLY = {"ruff", "mypy", "types-pyyaml"}
FLOOR = re.compile(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(?:\[[^\]]*\])?\s*(.*)$")


def floors(pyproject: Path, extras: list[str]) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    pinned = []
    for requirement in requirements:
        requirement = requirement.split(";")[0].split("#")[0].strip()
        match = FLOOR.match(requirement)
        if match is None:
            raise SystemExit(f"{pyproject}: cannot read requirement {requirement!r}")
        name, spec = match.group(1), match.group(2)
        if name.lower() in LINT_ONLY:
            continue
        lowest = re.search(r">=\s*([^,\s]+)", spec)
        if lowest is None:
            raise SystemExit(f"{pyproject}: {name} declares no lower bound (>=); every dependency needs one")
        pinned.append(f"{name}=={lowest.group(1)}")
    return pinned


if __name__ == "__main__":
    print("\n".join(floors(Path(__file__).resolve().parents[1] / "pyproject.toml", sys.argv[1:])))
