import os, sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import OPS, evaluate  # noqa: E402


def handle(input, ctx):
    failing = [c for c in input["cases"] if evaluate(input["expression"], c[0], c[1]) != c[2]]
    ctx.log(f"{len(failing)}/{len(input['cases'])} cases fail for '{input['expression']}'")
    return {"expression": input["expression"], "cases": input["cases"], "failing": failing, "suspect": input["expression"].split()[1]}
