"""Errors raised by the SDK. Every kernel error carries a stable ``code`` (for example ``E_BUS_TIMEOUT``)."""
from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~7 ms of start-up; type checkers read this branch
if TYPE_CHECKING:
    from typing import Optional


class AgentOSError(Exception):
    """An error reported by the AgentOS kernel, or by the SDK itself.

    Attributes:
        code: the stable error code (``reply.error.code``), or ``None`` when the kernel gave none.
        kernel_name: the error class name on the kernel side (``reply.error.name``).
    """

    def __init__(self, message: str, code: Optional[str] = None, kernel_name: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code
        self.kernel_name = kernel_name

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} [{self.code}]" if self.code else text


class SyscallError(AgentOSError):
    """A syscall (``ctx.send``, ``ctx.memory.get``, ...) that the kernel refused: ``op`` names it."""

    def __init__(self, message: str, code: Optional[str] = None, kernel_name: Optional[str] = None, op: str = "") -> None:
        super().__init__(message, code, kernel_name)
        self.op = op
