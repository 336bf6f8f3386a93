"""Shared by the example agents: evaluate `a OP b` for the workflow's expressions (no eval)."""
import operator

OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def evaluate(expression, a, b):
    left, op, right = expression.split()
    env = {"a": a, "b": b}
    return OPS[op](env[left], env[right])
