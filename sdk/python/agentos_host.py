"""Entry script the AgentOS kernel runs for Python agents: ``python3 <package>/sdk/python/agentos_host.py``.

Running the script puts its own directory first on sys.path, so ``agentos`` imports without a pip install
or PYTHONPATH. Everything else is in agentos/host.py.
"""
from agentos.host import main

if __name__ == "__main__":
    main()
