"""Library types with fixed pydantic schemas."""
import collections
import ipaddress
import re
import typing
from typing import Counter, DefaultDict, Deque, Generator, Iterator, NewType, TypeVar

import pydantic
from pydantic import conint, conlist, constr

from prefect import flow

UserId = NewType("UserId", int)
T = TypeVar("T")


@flow
def pydantic_types(a: pydantic.HttpUrl = "https://example.com", b: pydantic.PositiveInt = 1, c: pydantic.NonNegativeInt = 0, d: pydantic.StrictStr = "s", e: pydantic.SecretBytes = None, f: pydantic.Json = None, g: pydantic.AnyUrl = None):
    pass


@flow
def stdlib_more(a: complex = 1j, b: re.Pattern = None, c: ipaddress.IPv4Address = "127.0.0.1", d: bytearray = None, e: typing.Pattern = None, f: range = None):
    pass


@flow
def collections_types(a: Deque[int] = None, b: collections.deque = None, c: Counter[str] = None, d: DefaultDict[str, int] = None, e: collections.OrderedDict = None, f: Generator[int, None, None] = None, g: Iterator[int] = None, h: typing.Collection[int] = ()):
    pass


@flow
def newtype_typevar(u: UserId = 1, t: T = None):
    pass


@flow
def constrained(a: conint(ge=1) = 1, b: constr(min_length=2) = "ab", c: conlist(int, min_length=1) = [1]):
    pass
