"""The memory a process tree holds, from /proc: summed VmRSS, and resident pages counted once.

The daemon runs as two processes (the web server is a child of its own, monitor.web). Summing their
VmRSS counts twice every page both map (the interpreter, libpython, OpenSSL: ~10 MiB), so it is an
upper bound, not what the machine or a container's memory limit pays. `resident_kib` counts each
physical page of the tree once, by its page frame number in /proc/PID/pagemap; the kernel shows
those numbers only to a process with CAP_SYS_ADMIN (root), so it is None elsewhere and the summed
VmRSS is all there is.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

PAGE_KIB = 4
_PRESENT = 1 << 63
_PFN = (1 << 55) - 1


def vm_kib(pid: int, field: str = "VmRSS") -> int:
    """`field` (VmRSS, VmHWM) of `pid` in KiB, from /proc/PID/status; 0 for a process gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (by the parent pid in /proc/*/stat), `pid` first."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        fields = text.rpartition(")")[2].split()  # after "(comm)", which may hold spaces
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def tree_kib(pid: int, field: str = "VmRSS") -> int:
    """`field` summed over `pid` and its descendants (an upper bound: shared pages count in each)."""
    return sum(vm_kib(p, field) for p in process_tree(pid))


def frames(pid: int) -> set[int] | None:
    """The page frame numbers of the resident pages of `pid`; None when the kernel hides them
    (no CAP_SYS_ADMIN: every number reads 0) or the process is gone."""
    found: set[int] = set()
    hidden = False
    try:
        maps = Path(f"/proc/{pid}/maps").read_text(encoding="ascii", errors="replace").splitlines()
        with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
            for line in maps:
                span, perms = line.split()[:2]
                if perms.startswith("---"):
                    continue  # reserved address space (guard pages, arena reserves): never resident
                start, end = (int(x, 16) // 4096 for x in span.split("-"))
                pagemap.seek(start * 8)
                data = pagemap.read((end - start) * 8)
                for (entry,) in struct.iter_unpack("Q", data):
                    if entry & _PRESENT:
                        pfn = entry & _PFN
                        hidden = hidden or pfn == 0
                        found.add(pfn)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError:  # [vsyscall] and the like cannot be read
        pass
    return None if hidden else found


@dataclass(frozen=True)
class TreeSample:
    """One look at the daemon's processes, in KiB."""

    summed: int
    """VmRSS summed over the processes."""
    resident: int | None
    """Resident pages of all the processes, each counted once (None without page frame numbers)."""
    children_only: int | None
    """Resident pages of the children that the daemon itself does not map."""


def sample_tree(pid: int) -> TreeSample:
    """The memory of `pid` (the daemon) and its descendants now."""
    pids = process_tree(pid)
    summed = sum(vm_kib(p) for p in pids)
    daemon = frames(pid)
    if daemon is None:
        return TreeSample(summed, None, None)
    others: set[int] = set()
    for child in pids[1:]:
        found = frames(child)
        if found is None:
            return TreeSample(summed, None, None)
        others |= found
    extra = len(others - daemon)
    return TreeSample(summed, (len(daemon) + extra) * PAGE_KIB, extra * PAGE_KIB)
