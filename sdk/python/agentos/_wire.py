"""The agent side of the AgentOS channel: NDJSON over a Unix stream socket on fd AGENTOS_CHANNEL_FD.

Plain ``os.read``/``os.write`` on a blocking fd (no ``socket`` module: it costs start-up time and buys
nothing here). A blocking write is the backpressure: a writer waits while the kernel is not reading.
Lines are split with ``bytes.find`` per chunk; a line spread over chunks is joined once, at its newline.
"""
from __future__ import annotations

import json
import os
import threading
TYPE_CHECKING = False  # typing costs ~7 ms of start-up; type checkers read this branch
if TYPE_CHECKING:
    from typing import Any, Dict, Iterator, List, Optional

READ_CHUNK = 256 * 1024


def encode(message: Dict[str, Any]) -> bytes:
    """One message as a line: compact JSON + ``\\n``, UTF-8.

    Raises ValueError/TypeError for values JSON cannot carry (NaN and infinities included, which
    ``JSON.parse`` on the kernel side would refuse as a protocol violation).
    """
    try:
        text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        # Lone surrogates cannot be UTF-8: escape them instead (\udXXX is valid JSON).
        text = json.dumps(message, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
        return text.encode("ascii") + b"\n"


class Wire:
    """Both directions of the channel. ``send`` is thread-safe; ``frames`` is for one reader thread."""

    def __init__(self, fd: int, max_frame_bytes: Optional[int] = None) -> None:
        self.fd = fd
        self.max_frame_bytes = max_frame_bytes
        os.set_blocking(fd, True)
        self._lock = threading.Lock()

    def send(self, message: Dict[str, Any]) -> None:
        """Write one message, blocking while the kernel's side is full. Exits the process if the kernel is gone."""
        self.write_raw(encode(message))

    def write_raw(self, data: bytes) -> None:
        """Write bytes as they are (also used to commit the ``garbage`` fault)."""
        view = memoryview(data)
        with self._lock:
            try:
                while view:
                    n = os.write(self.fd, view)
                    view = view[n:]
            except OSError:
                # EPIPE/ECONNRESET: the kernel is gone; an agent never outlives it.
                os._exit(0)

    def frames(self) -> Iterator[Dict[str, Any]]:
        """Yield each message from the kernel in order; returns at EOF."""
        parts: List[bytes] = []
        while True:
            try:
                chunk = os.read(self.fd, READ_CHUNK)
            except InterruptedError:  # pragma: no cover - PEP 475 retries already
                continue
            except OSError:
                return
            if not chunk:
                return
            start = 0
            while True:
                nl = chunk.find(b"\n", start)
                if nl < 0:
                    break
                if parts:
                    parts.append(chunk[start:nl])
                    line = b"".join(parts)
                    parts = []
                else:
                    line = chunk[start:nl]
                start = nl + 1
                yield json.loads(line)
            if start < len(chunk):
                parts.append(chunk[start:])
