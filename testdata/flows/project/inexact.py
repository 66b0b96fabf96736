"""Constructs a static reader cannot evaluate exactly (see ../expectations.json)."""
import functools
import os

from prefect import flow

PREFIX = "comp"


@flow(name=PREFIX + "uted-" + str(len("abc")))
def computed_name(a: int = 1):
    pass


def pipeline_flow(**kwargs):
    def deco(fn):
        return flow(**kwargs)(fn)
    return deco


@pipeline_flow(name="wrapped-flow")
def wrapped(a: int = 1):
    pass


@flow
def env_default(home: str = os.path.join("a", "b")):
    pass


def not_a_flow(a: int = 1):
    pass


@flow
def unicode_name_escape(a: str = "\N{BULLET}"):
    pass
