"""Faults injected with ``--inject AGENT:FAULT``, committed by the real Python process, so the kernel meets
them exactly as it would meet a broken handler (never simulated in the kernel)."""
from __future__ import annotations

import os
import sys
TYPE_CHECKING = False  # typing costs ~7 ms of start-up; type checkers read this branch
if TYPE_CHECKING:
    from typing import Any, List

GARBAGE = b"\x00garbage{{{not json\n"


def commit(fault: str, wire: Any) -> None:
    """Commit ``fault``. Returns only for ``garbage`` (after the junk is written); raises for ``throw``."""
    if fault == "crash":
        os.abort()  # SIGABRT, like a native crash
    elif fault == "exit":
        os._exit(0)  # "success" without a result: the kernel must still call it a crash
    elif fault == "hang":
        while True:  # busy loop: only the kernel's kill ends it
            pass
    elif fault == "oom":
        _grow()
    elif fault == "throw":
        raise RuntimeError("injected fault: throw")
    elif fault == "garbage":
        wire.write_raw(GARBAGE)
    else:
        raise ValueError(f"unknown injected fault {fault!r}")


def _grow() -> None:
    """Grow resident memory until killed (the kernel's quota or cgroup). Under an address-space limit
    (RLIMIT_AS) the allocator refuses first: then die like an OOM, with the reason on stderr."""
    hoard: List[bytes] = []
    try:
        while True:
            hoard.append(b"\xa5" * (16 << 20))  # a fill, not calloc: every page is touched and resident
    except MemoryError:
        mib = len(hoard) * 16
        hoard.clear()
        sys.stderr.write(f"MemoryError: injected oom: allocation refused after {mib} MiB\n")
        sys.stderr.flush()
        os.abort()
