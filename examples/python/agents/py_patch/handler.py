import os, sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import OPS, evaluate  # noqa: E402


def handle(input, ctx):
    analysis = ctx.deps["analyze"]
    for op in OPS:
        candidate = analysis["expression"].replace(analysis["suspect"], op)
        if all(evaluate(candidate, a, b) == want for a, b, want in analysis["cases"]):
            ctx.log(f"candidate '{candidate}' passes all cases")
            return {"before": analysis["expression"], "after": candidate, "cases": analysis["cases"]}
    raise ValueError(f"no operator swap fixes '{analysis['expression']}'")
