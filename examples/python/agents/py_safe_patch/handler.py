def handle(input, ctx):
    analysis = ctx.deps["analyze"]
    return {"before": analysis["expression"], "after": "a + b", "cases": analysis["cases"], "fallback": True}
