"""The ``ctx`` a Python handler receives: the same capabilities as the JavaScript ctx (worker/host.ts).

Calling model: every method is a plain, synchronous call that blocks until the kernel replies. A reader
thread owns the channel and hands each ``reply`` to the waiting caller by ``callId``. Why blocking:
  * one model works unchanged from ``def handle`` and ``async def handle`` (no event loop is required, and
    none is assumed: an SDK built on asyncio would force every plain handler into one);
  * a round trip is tens of microseconds, so blocking briefly costs an async handler nothing in practice;
  * it is thread-safe: run slow calls concurrently with threads or ``await asyncio.to_thread(ctx.receive,
    timeout_ms=5000)`` inside an async handler.
Kernel refusals raise :class:`agentos.SyscallError` (an :class:`agentos.AgentOSError`) carrying ``.code``.
"""
from __future__ import annotations

import _thread
import threading
TYPE_CHECKING = False  # typing costs ~7 ms of start-up; type checkers read this branch
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence

from .errors import SyscallError

if TYPE_CHECKING:
    Json = Any
    """Any value JSON can carry: dict, list, str, int, float (finite), bool, None."""
else:
    Json = object  # annotations are not evaluated at run time (PEP 563)


def _args(**fields: Any) -> Dict[str, Any]:
    """Drop fields left at None, as JSON.stringify drops undefined on the JavaScript side."""
    return {k: v for k, v in fields.items() if v is not None}


class Syscalls:
    """Pending syscalls of this process by callId; ``call`` blocks until ``resolve`` gets the reply."""

    def __init__(self, send: Any) -> None:
        self._send = send
        self._pending: Dict[int, List[Any]] = {}
        self._lock = threading.Lock()
        self._next = 1

    def call(self, request_id: str, op: str, args: Optional[Dict[str, Any]] = None) -> Json:
        """Make one syscall; returns ``reply.value`` or raises SyscallError(code) on ``reply.ok == false``."""
        waiter = _thread.allocate_lock()
        waiter.acquire()
        slot: List[Any] = [waiter, None]
        with self._lock:
            call_id = self._next
            self._next += 1
            self._pending[call_id] = slot
        message: Dict[str, Any] = {"type": "call", "callId": call_id, "requestId": request_id, "op": op}
        if args is not None:
            message["args"] = args
        try:
            self._send(message)
        except BaseException:
            with self._lock:
                self._pending.pop(call_id, None)
            raise
        waiter.acquire()  # released by resolve() on the reader thread
        reply: Dict[str, Any] = slot[1]
        if reply.get("ok") is True:
            return reply.get("value")
        error = reply.get("error") or {}
        raise SyscallError(str(error.get("message", f"{op} failed")), error.get("code"), error.get("name"), op)

    def resolve(self, reply: Dict[str, Any]) -> None:
        """Hand a ``reply`` to its caller (unknown callIds are ignored)."""
        with self._lock:
            slot = self._pending.pop(reply.get("callId"), None)  # type: ignore[arg-type]
        if slot is not None:
            slot[1] = reply
            slot[0].release()


class TaskInfo:
    """The attempt being run: ``id`` (task id), ``attempt`` (1-based), ``key`` (idempotency key, stable
    across attempts and resumes), ``request_id`` (this attempt's protocol id)."""

    __slots__ = ("id", "attempt", "key", "request_id")

    def __init__(self, id: str, attempt: int, key: Optional[str], request_id: str) -> None:
        self.id = id
        self.attempt = attempt
        self.key = key
        self.request_id = request_id

    def __repr__(self) -> str:
        return f"TaskInfo(id={self.id!r}, attempt={self.attempt}, key={self.key!r})"


class AgentInfo:
    """This process: agent ``name`` and 1-based ``instance``."""

    __slots__ = ("name", "instance")

    def __init__(self, name: str, instance: int) -> None:
        self.name = name
        self.instance = instance


class _Part:
    def __init__(self, ctx: "Context") -> None:
        self._call = ctx.syscall


class Log:
    """``ctx.log(msg, data=None)`` logs at info; ``.debug/.info/.warn/.error`` pick the level.
    Blocks while the kernel is not reading (heavy logging slows the agent instead of filling memory)."""

    def __init__(self, send: Any, request_id: str) -> None:
        self._send = send
        self._request_id = request_id

    def _log(self, level: str, msg: Any, data: Json = None) -> None:
        try:
            text = msg if isinstance(msg, str) else str(msg)
        except Exception:  # a __str__ that raises must not turn a log line into a failure
            text = f"<unprintable {type(msg).__name__}>"
        # The kernel refuses longer log lines (a protocol violation): cut them here.
        if len(text) > 100_000:
            text = text[: 100_000 - 40] + f" ... [{len(text) - 100_000 + 40} more characters cut]"
        message: Dict[str, Any] = {"type": "log", "requestId": self._request_id, "level": level, "msg": text}
        if data is not None:
            message["data"] = data
        self._send(message)

    def __call__(self, msg: Any, data: Json = None) -> None:
        self._log("info", msg, data)

    def debug(self, msg: Any, data: Json = None) -> None:
        self._log("debug", msg, data)

    def info(self, msg: Any, data: Json = None) -> None:
        self._log("info", msg, data)

    def warn(self, msg: Any, data: Json = None) -> None:
        self._log("warn", msg, data)

    warning = warn

    def error(self, msg: Any, data: Json = None) -> None:
        self._log("error", msg, data)


class LocalMemory(_Part):
    """Task-local memory of this agent (``memory.local.*``)."""

    def get(self, key: str) -> Json:
        return self._call("memory.local.get", {"key": key})

    def set(self, key: str, value: Json) -> Json:
        return self._call("memory.local.set", {"key": key, "value": value})

    def keys(self) -> List[str]:
        return self._call("memory.local.keys")  # type: ignore[no-any-return]


class Memory(_Part):
    """The shared blackboard (``memory.*``) and the budgeted context."""

    def __init__(self, ctx: "Context") -> None:
        super().__init__(ctx)
        self.local = LocalMemory(ctx)

    def get(self, key: str) -> Json:
        return self._call("memory.get", {"key": key})

    def set(self, key: str, value: Json) -> Json:
        return self._call("memory.set", {"key": key, "value": value})

    def delete(self, key: str) -> Json:
        return self._call("memory.delete", {"key": key})

    def list(self, prefix: Optional[str] = None) -> Json:
        return self._call("memory.list", _args(prefix=prefix))

    def context(self, prefix: Optional[str] = None, keys: Optional[Sequence[str]] = None, budget: Optional[int] = None) -> Json:
        """Dependencies' outputs + shared memory, compressed into this agent's ``context_tokens``."""
        return self._call("memory.context", _args(prefix=prefix, keys=list(keys) if keys is not None else None, budget=budget))


class Tokens(_Part):
    def count(self, text: str) -> int:
        """Tokens in ``text`` by the kernel's tokenizer."""
        return self._call("tokens.count", {"text": text})  # type: ignore[no-any-return]


class Kv(_Part):
    """The KV-cache page store: sequences live in the kernel and belong to this process."""

    def create(self, tokens: Optional[Sequence[int]] = None) -> Json:
        return self._call("kv.create", _args(tokens=list(tokens) if tokens is not None else None))

    def append(self, seq: str, tokens: Sequence[int]) -> Json:
        return self._call("kv.append", {"seq": seq, "tokens": list(tokens)})

    def fork(self, seq: str) -> Json:
        return self._call("kv.fork", {"seq": seq})

    def free(self, seq: str) -> Json:
        return self._call("kv.free", {"seq": seq})

    def read(self, seq: str, start: Optional[int] = None, end: Optional[int] = None) -> Json:
        return self._call("kv.read", _args(seq=seq, start=start, end=end))

    def stats(self) -> Json:
        return self._call("kv.stats")


class Llm(_Part):
    def chat(self, messages: Sequence[Dict[str, Any]], max_tokens: Optional[int] = None, temperature: Optional[float] = None) -> Json:
        """The configured model, kernel-side; raises SyscallError(code='E_NO_LLM') when there is none."""
        return self._call("llm.chat", _args(messages=list(messages), max_tokens=max_tokens, temperature=temperature))


class Context:
    """Everything a handler can ask of the kernel. See the module docstring for the calling model."""

    def __init__(self, syscalls: Syscalls, send: Any, task: Dict[str, Any], agent: AgentInfo) -> None:
        request_id = str(task["requestId"])
        self._syscalls = syscalls
        self._request_id = request_id
        self.task = TaskInfo(str(task.get("taskId")), int(task.get("attempt", 1)), task.get("key"), request_id)
        self.agent = agent
        self.deps: Dict[str, Json] = task.get("deps") or {}
        self.log = Log(send, request_id)
        self.memory = Memory(self)
        self.tokens = Tokens(self)
        self.kv = Kv(self)
        self.llm = Llm(self)

    def syscall(self, op: str, args: Optional[Dict[str, Any]] = None) -> Json:
        """Low-level access to any op of the syscall table; the named methods are the supported API."""
        return self._syscalls.call(self._request_id, op, args)

    # ---- message bus: the kernel routes, stamps the sender and a per-pair sequence number ----
    def send(self, to: str, payload: Json = None) -> Json:
        """To an agent name, an instance ('name#2') or a task id; returns once queued."""
        return self.syscall("bus.send", {"to": to, "payload": payload})

    def receive(self, timeout_ms: Optional[int] = None) -> Optional[Dict[str, Json]]:
        """Next message ``{from, to, topic, seq, payload, latency_ms}``, or None after ``timeout_ms``."""
        return self.syscall("bus.receive", _args(timeout_ms=timeout_ms))  # type: ignore[no-any-return]

    def receive_many(self, timeout_ms: Optional[int] = None, max: Optional[int] = None) -> List[Dict[str, Json]]:
        """Up to ``max`` (kernel default 64) messages once at least one is there; [] after ``timeout_ms``."""
        return self.syscall("bus.receive_many", _args(timeout_ms=timeout_ms, max=max))  # type: ignore[no-any-return]

    def publish(self, topic: str, payload: Json = None) -> Json:
        return self.syscall("bus.publish", {"topic": topic, "payload": payload})

    def subscribe(self, topic: str) -> Json:
        return self.syscall("bus.subscribe", {"topic": topic})

    def unsubscribe(self, topic: str) -> Json:
        return self.syscall("bus.unsubscribe", {"topic": topic})

    def broadcast(self, payload: Json = None) -> Json:
        """To every agent instance with a live process (not this one)."""
        return self.syscall("bus.broadcast", {"payload": payload})

    # ---- the task graph ----
    def spawn(self, id: str, agent: str, deps: Optional[Sequence[str]] = None, input: Json = None,
              timeout_ms: Optional[int] = None, memory_mb: Optional[int] = None) -> Json:
        """Add a task to the running DAG; raises SyscallError if the kernel refuses it."""
        return self.syscall("task.spawn", _args(id=id, agent=agent, deps=list(deps) if deps is not None else None,
                                                input=input, timeout_ms=timeout_ms, memory_mb=memory_mb))

    def wait(self, tasks: Sequence[str], until: str = "all", field: Optional[str] = None) -> Json:
        """Wait for tasks: returns ``{winner, tasks: [{id, state, output, error}]}``."""
        return self.syscall("task.wait", _args(tasks=list(tasks), until=until, field=field))

    def cancel(self, tasks: Sequence[str], reason: Optional[str] = None) -> Json:
        """End tasks this task spawned (running ones are killed)."""
        return self.syscall("task.cancel", _args(tasks=list(tasks), reason=reason))
