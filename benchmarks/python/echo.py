"""The channel benchmark's bare Python child: the SDK's framing only (no handler), echoing every frame."""
import os

from agentos._wire import Wire

wire = Wire(int(os.environ["AGENTOS_CHANNEL_FD"]))
wire.send({"type": "ready", "pid": os.getpid(), "protocol": 1, "runtime": "python"})
for message in wire.frames():
    wire.send(message)
