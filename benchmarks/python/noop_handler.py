"""Minimal handler for the start-up benchmark: no imports, returns at once."""


def handle(input, ctx):
    return input
