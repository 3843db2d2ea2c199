"""The peak resident memory of this process, as the kernel records it.

Why not ``resource.getrusage`` or ``os.wait4``'s ``ru_maxrss``: Linux carries the high-water mark
of the process that started a program over into the program's ``ru_maxrss`` (``subprocess``
starts children with vfork, and exec keeps the larger of the old and new marks), so a child
started by a benchmark that had grown to 220 MB reports at least 220 MB, whatever it used.
``VmHWM`` in /proc/self/status belongs to the program's own address space only.
"""

from __future__ import annotations

from pathlib import Path


def peak_rss_mb() -> float:
    """VmHWM of this process in MB (MiB); raises if the kernel does not provide it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # reported in kB
    raise RuntimeError("/proc/self/status has no VmHWM line: peak memory cannot be measured here")
