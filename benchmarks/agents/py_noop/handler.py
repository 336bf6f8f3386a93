def handle(input, ctx):
    return input
