"""Syscall round trips as a Python handler sees them: n blocking ctx.syscall calls (reader thread + callId)."""


def handle(input, ctx):
    for _ in range(input["n"]):
        ctx.syscall("bench.ping")
    return input["n"]
