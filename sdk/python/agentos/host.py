"""The agent process for Python handlers: ``python3 <package>/sdk/python/agentos_host.py`` (or
``python3 -m agentos.host`` with ``sdk/python`` on PYTHONPATH).

Loads the module in AGENTOS_HANDLER (a ``.py`` file defining ``handle(input, ctx)``, plain or ``async def``),
sends ``ready`` (or ``init_failed`` and exits 78), then runs one task at a time on the main thread while a
reader thread owns the channel: it hands ``reply`` frames to blocked syscalls, queues ``task`` frames, and
exits the process at once on ``shutdown`` or EOF (the kernel is gone). Start-up imports stay minimal:
asyncio and traceback are imported only when a handler needs them.
"""
from __future__ import annotations

import os
import sys
import threading
from queue import SimpleQueue

TYPE_CHECKING = False  # typing costs ~7 ms of start-up; type checkers read this branch
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional

from ._wire import Wire, encode
from .context import AgentInfo, Context, Syscalls

PROTOCOL_VERSION = 1
MAX_MESSAGE_CHARS = 100_000  # the kernel's schema limits for error.message / error.stack
MAX_STACK_CHARS = 200_000

if TYPE_CHECKING:
    Handler = Callable[[Any, Context], Any]


def wire_error(err: BaseException) -> Dict[str, Any]:
    """An exception as plain data ``{name, message, stack, code?}`` (never raises, whatever ``err`` is)."""
    try:
        message = str(err)
    except BaseException:  # a __str__ that raises must not lose the result
        message = f"<unprintable {type(err).__name__}>"
    try:
        import traceback

        stack = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    except BaseException:
        stack = message
    out: Dict[str, Any] = {"name": type(err).__name__[:200], "message": message[:MAX_MESSAGE_CHARS], "stack": stack[-MAX_STACK_CHARS:]}
    code = getattr(err, "code", None)
    if isinstance(code, str):
        out["code"] = code[:200]
    return out


def load_handler(path: Optional[str]) -> Handler:
    """Import the handler file and return its ``handle``. Raises on any problem (becomes init_failed)."""
    if not path:
        raise RuntimeError("AGENTOS_HANDLER is not set")
    import importlib.util

    spec = importlib.util.spec_from_file_location("agentos_handler", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python module (expected a .py file)")
    module = importlib.util.module_from_spec(spec)
    # Like `python3 handler.py`: modules next to the handler are importable.
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    sys.modules["agentos_handler"] = module
    spec.loader.exec_module(module)
    handle = getattr(module, "handle", None)
    if not callable(handle):
        raise TypeError(f"{path} defines no handle(input, ctx) function")
    return handle  # type: ignore[no-any-return]


def _exit(code: int) -> None:
    """Leave now (no interpreter shutdown, which could wait on the handler), keeping what was printed."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # a closed or broken stream must not keep the process alive
            pass
    os._exit(code)


def _read_loop(wire: Wire, syscalls: Syscalls, tasks: "SimpleQueue[Dict[str, Any]]") -> None:
    try:
        for message in wire.frames():
            kind = message.get("type")
            if kind == "reply":
                syscalls.resolve(message)
            elif kind == "task":
                tasks.put(message)
            elif kind == "shutdown":
                _exit(0)
    except BaseException as err:  # the kernel is trusted: a bad frame is a bug there; say so and leave
        sys.stderr.write(f"agentos: bad frame from the kernel: {err!r}\n")
        _exit(70)
    _exit(0)  # EOF: the kernel is gone, and an agent never outlives it


def _run(handler: Handler, task: Dict[str, Any], ctx: Context, wire: Wire) -> Any:
    fault = task.get("inject")
    if fault:
        from . import _faults

        _faults.commit(str(fault), wire)
    output = handler(task.get("input"), ctx)
    if hasattr(output, "__await__"):  # async def handle, or any awaitable it returned
        import asyncio

        async def finish() -> Any:
            return await output

        output = asyncio.run(finish())
    return output


def run_task(handler: Handler, task: Dict[str, Any], wire: Wire, syscalls: Syscalls, agent: AgentInfo, max_frame: Optional[int]) -> None:
    """Run one attempt and send exactly one ``result`` for it."""
    base = {"type": "result", "requestId": task.get("requestId"), "taskId": task.get("taskId")}
    try:
        output = _run(handler, task, Context(syscalls, wire.send, task, agent), wire)
    except Exception as err:
        wire.send({**base, "ok": False, "kind": "exception", "error": wire_error(err)})
        return
    try:
        line = encode({**base, "ok": True, "output": output})
    except (TypeError, ValueError, RecursionError) as err:
        reason = f"output is not JSON-serialisable: {err}"
        wire.send({**base, "ok": False, "kind": "invalid_output", "error": {"name": type(err).__name__, "message": reason[:MAX_MESSAGE_CHARS]}})
        return
    if max_frame is not None and len(line) - 1 > max_frame:
        reason = f"output is {len(line) - 1} bytes as JSON, over the {max_frame}-byte channel limit (max_output_mb)"
        wire.send({**base, "ok": False, "kind": "invalid_output", "error": {"name": "RangeError", "message": reason}})
        return
    wire.write_raw(line)


def main() -> None:
    """Entry point: never returns (the process ends on shutdown, EOF or a fault)."""
    fd_text = os.environ.get("AGENTOS_CHANNEL_FD", "")
    if not fd_text.isdigit():
        sys.stderr.write("agentos: AGENTOS_CHANNEL_FD is not set (start me through the AgentOS kernel)\n")
        sys.exit(64)
    max_text = os.environ.get("AGENTOS_MAX_FRAME_BYTES", "")
    max_frame = int(max_text) if max_text.isdigit() else None
    wire = Wire(int(fd_text))
    # fd 1 is the agent's log file: line-buffer it, so print() output is there as it happens (and after a kill).
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(line_buffering=True)
    instance = os.environ.get("AGENTOS_INSTANCE", "1")
    agent = AgentInfo(os.environ.get("AGENTOS_AGENT", "agent"), int(instance) if instance.isdigit() else 1)
    try:
        handler = load_handler(os.environ.get("AGENTOS_HANDLER"))
    except BaseException as err:  # SyntaxError, ImportError, SystemExit at import: all are load failures
        wire.send({"type": "init_failed", "error": wire_error(err)})
        _exit(78)
    syscalls = Syscalls(wire.send)
    tasks: "SimpleQueue[Dict[str, Any]]" = SimpleQueue()
    threading.Thread(target=_read_loop, args=(wire, syscalls, tasks), name="agentos-channel", daemon=True).start()
    wire.send({"type": "ready", "pid": os.getpid(), "protocol": PROTOCOL_VERSION, "runtime": "python"})
    while True:
        run_task(handler, tasks.get(), wire, syscalls, agent, max_frame)


if __name__ == "__main__":
    main()
