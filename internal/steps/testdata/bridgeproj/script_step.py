def run(tag):
    return {"from_script": "script-%s" % (tag,)}
