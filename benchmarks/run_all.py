"""Run every benchmark in benchmarks/ that defines main(), one after another, and print their output.

    .venv/bin/python benchmarks/run_all.py [NAME ...]      # `make bench`; NAME = file stem, e.g. ingest

Each benchmark runs with its default arguments (`main([])`). A benchmark that fails or raises does
not stop the others; the exit code is 1 if any missed its target or failed.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def discover() -> list[Path]:
    return sorted(
        p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_")
    )


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmarks_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    # dataclasses (and pickling in worker processes) look the module up by name while it executes.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run(name: str, entry: Callable[[list[str]], int]) -> int:
    print(f"== {name} ==", flush=True)
    started = time.perf_counter()
    try:
        code = entry([])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except Exception:
        traceback.print_exc()
        code = 1
    print(f"== {name}: exit {code} after {time.perf_counter() - started:.1f} s ==\n", flush=True)
    return int(code or 0)


def main(argv: list[str] | None = None) -> int:
    wanted = set(sys.argv[1:] if argv is None else argv)
    failures = []
    for path in discover():
        if wanted and path.stem not in wanted:
            continue
        entry = getattr(load(path), "main", None)
        if callable(entry) and run(path.stem, entry) != 0:
            failures.append(path.stem)
    if failures:
        print(f"missed or failed: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
