"""Entry script the AgentOS kernel runs for Python agents: ``python3 <package>/sdk/python/agentos_host.py``.

Running the script puts its own directory first on sys.path, so ``agentos`` imports without a pip install
or PYTHONPATH. Everything else is in agentos/host.py.
"""
import os
import sys

# The kernel starts the interpreter with the process title as argv[0] (`agentos-agent NAME#N run=ID`, what
# `ps` shows), so Python cannot derive sys.executable from it; the kernel names the interpreter here, and
# subprocess/multiprocessing code that runs sys.executable keeps working.
_exe = os.environ.pop("AGENTOS_PYTHON_EXECUTABLE", "")
if _exe and not sys.executable:
    sys.executable = _exe
    if not getattr(sys, "_base_executable", ""):
        sys._base_executable = _exe  # type: ignore[attr-defined]

from agentos.host import main  # noqa: E402

if __name__ == "__main__":
    main()
