"""AgentOS Python SDK: write ``handle(input, ctx)`` in a ``.py`` file; the kernel runs it in its own process.

Standard library only; needs no ``pip install`` at run time (the kernel starts ``sdk/python/agentos_host.py``).
See docs/protocol.md for the wire protocol and ``agentos.context`` for the calling model.
"""
from .context import AgentInfo, Context, Json, TaskInfo
from .errors import AgentOSError, SyscallError

__all__ = ["AgentOSError", "SyscallError", "Context", "TaskInfo", "AgentInfo", "Json", "PROTOCOL_VERSION"]
__version__ = "0.1.0"
PROTOCOL_VERSION = 1
