def handle(input, ctx):
    for i in range(input["count"]):
        ctx.send(input["peer"], {"n": i})
    replies = []
    while len(replies) < input["count"]:
        m = ctx.receive(timeout_ms=5000)
        if m is None:
            raise TimeoutError("no reply from the Node agent")
        replies.append({"from": m["from"]["agent"], "seq": m["seq"], "payload": m["payload"]})
    return {"replies": replies}
