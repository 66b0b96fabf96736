"""Names that mean different things because of imports and re-definitions."""
from prefect import flow
from typing import List as L, Optional as Opt
import datetime as d


class str_like(str):
    pass


@flow
def aliased_typing(a: L[int] = [], b: Opt[int] = None, c: d.date = None):
    pass


@flow
def subclass_of_builtin(a: str_like = "x"):
    pass


def flow_wrapper_name():
    pass


@flow
def duplicate():
    """First duplicate."""


@flow(name="second-duplicate")
def duplicate(a: int = 1):
    """Second wins at runtime."""
