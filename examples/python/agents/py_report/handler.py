def handle(input, ctx):
    patch, test = ctx.deps["patch"], ctx.deps["test"]
    ok = test["ok"]
    verdict = "fixed" if ok else "not fixed"
    return {"summary": f"{verdict}: '{patch['before']}' -> '{patch['after']}' ({test['passed']}/{test['total']} cases pass)", "fixed": ok}
