"""Imports the reader cannot see into, and flows built without a decorator."""
from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Optional

import httpx
import prefect.flows
from prefect import flow as prefect_flow

if TYPE_CHECKING:
    from decimal import Decimal


@dataclasses.dataclass
class DC:
    a: int = 1


def passthrough(fn):
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        return fn(*args, **kwargs)
    return inner


@prefect_flow
def external_type(url: httpx.URL = None, n: int = 1):
    pass


@prefect.flows.flow(name="deep-attr")
def deep_attr(a: Optional[int] = None):
    pass


@prefect_flow
def type_checking_only(d: Decimal = None, n: int = 1):
    pass


@prefect_flow
def dataclass_param(d: DC = None):
    pass


@prefect_flow
@passthrough
def wrapped_inside(a: int = 1):
    pass


def plain(x: int = 2, y: str = "y"):
    """Plain function turned into a flow by a call."""


called_flow = prefect_flow(plain)
named_call_flow = prefect_flow(name="made-by-call", version="3")(plain)
