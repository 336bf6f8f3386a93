"""Fast unit tests of the SDK (stdlib unittest): ``python3 -m unittest discover -s sdk/python/tests -t sdk/python``.

They run the real host in a subprocess with a socketpair on fd 3, as the kernel does.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.path.dirname(HERE)
sys.path.insert(0, SDK)

from agentos import AgentOSError, SyscallError  # noqa: E402
from agentos._wire import Wire, encode  # noqa: E402
from agentos.context import Syscalls  # noqa: E402


class EncodeTest(unittest.TestCase):
    def test_compact_line_utf8(self) -> None:
        self.assertEqual(encode({"type": "log", "msg": "é\n"}), '{"type":"log","msg":"é\\n"}\n'.encode())

    def test_lone_surrogate_is_escaped_not_an_error(self) -> None:
        line = encode({"type": "log", "msg": "\ud800"})
        self.assertEqual(json.loads(line), {"type": "log", "msg": "\ud800"})

    def test_nan_and_sets_are_refused(self) -> None:
        with self.assertRaises(ValueError):
            encode({"x": float("nan")})
        with self.assertRaises(TypeError):
            encode({"x": {1}})


class WireTest(unittest.TestCase):
    def test_frames_split_across_reads(self) -> None:
        a, b = socket.socketpair()
        wire = Wire(b.fileno())
        got = []
        reader = threading.Thread(target=lambda: got.extend(wire.frames()))
        reader.start()
        data = b'{"type":"a","s":"\xc3\xa9"}\n{"type":"b"}\n{"type":"c"}\n'
        for i in range(0, len(data), 3):
            a.sendall(data[i : i + 3])
        a.close()
        reader.join(5)
        self.assertEqual([m["type"] for m in got], ["a", "b", "c"])
        self.assertEqual(got[0]["s"], "é")
        b.close()


class SyscallsTest(unittest.TestCase):
    def test_error_reply_raises_with_code(self) -> None:
        sent = []

        def send(m):
            sent.append(m)
            threading.Thread(target=calls.resolve, args=({"type": "reply", "callId": m["callId"], "ok": False, "error": {"name": "X", "message": "nope", "code": "E_NOPE"}},)).start()

        calls = Syscalls(send)
        with self.assertRaises(SyscallError) as caught:
            calls.call("r1", "memory.get", {"key": "k"})
        self.assertEqual(caught.exception.code, "E_NOPE")
        self.assertEqual(caught.exception.op, "memory.get")
        self.assertIsInstance(caught.exception, AgentOSError)
        self.assertEqual(sent[0], {"type": "call", "callId": 1, "requestId": "r1", "op": "memory.get", "args": {"key": "k"}})


class HostTest(unittest.TestCase):
    def run_host(self, handler_src: str, frames):
        """Start the host on a socketpair, send `frames` after ready, return every message until EOF."""
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "h.py")
            with open(path, "w") as f:
                f.write(handler_src)
            kernel, agent = socket.socketpair()
            env = {"PATH": os.environ.get("PATH", ""), "AGENTOS_CHANNEL_FD": str(agent.fileno()), "AGENTOS_HANDLER": path}
            proc = subprocess.Popen([sys.executable, os.path.join(SDK, "agentos_host.py")], env=env, pass_fds=[agent.fileno()])
            agent.close()
            out = []
            reader = kernel.makefile("rb")
            try:
                for raw in reader:
                    m = json.loads(raw)
                    out.append(m)
                    if m["type"] == "ready":
                        for fr in frames:
                            kernel.sendall(json.dumps(fr).encode() + b"\n")
                    if m["type"] in ("result", "init_failed"):
                        break
                kernel.shutdown(socket.SHUT_WR)  # EOF: the host must exit at once
                code = proc.wait(10)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                kernel.close()
            return out, code

    def test_task_result_and_eof_exit(self) -> None:
        out, code = self.run_host("def handle(i, ctx):\n    return {'got': i, 'id': ctx.task.id}\n",
                                  [{"type": "task", "requestId": "r", "taskId": "t", "attempt": 1, "key": "k", "input": 5, "deps": {}}])
        self.assertEqual(out[0]["type"], "ready")
        self.assertEqual(out[-1], {"type": "result", "requestId": "r", "taskId": "t", "ok": True, "output": {"got": 5, "id": "t"}})
        self.assertEqual(code, 0)

    def test_init_failed(self) -> None:
        out, code = self.run_host("import nonexistent_module_xyz\n", [])
        self.assertEqual(out[0]["type"], "init_failed")
        self.assertEqual(out[0]["error"]["name"], "ModuleNotFoundError")
        self.assertEqual(code, 78)


if __name__ == "__main__":
    unittest.main()
