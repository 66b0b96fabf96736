"""Custom deployment steps used by prefectctl's bridge tests."""
import asyncio
import os


def make_greeting(name, times=1, punctuation="!"):
    print("making a greeting for", name)
    return {"greeting": " ".join(["hello " + name] * times) + punctuation, "cwd": os.getcwd(), "count": times}


async def async_step(value):
    await asyncio.sleep(0)
    return {"doubled": value * 2, "nested": {"items": [value, None, True]}}


def not_a_dict():
    return "ignored"


def explode(reason):
    raise RuntimeError("exploded: " + reason)
