import os, sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import OPS, evaluate  # noqa: E402


async def handle(input, ctx):
    patch = ctx.deps["patch"]
    results = [{"a": a, "b": b, "want": want, "got": evaluate(patch["after"], a, b)} for a, b, want in patch["cases"]]
    passed = sum(1 for r in results if r["got"] == r["want"])
    return {"expression": patch["after"], "passed": passed, "total": len(results), "ok": passed == len(results)}
