"""Defaults the reader leaves out, with a warning (docs/differences.md lists each)."""
import datetime as dt
import enum
import ipaddress
from typing import FrozenSet, List
from zoneinfo import ZoneInfo

from pydantic import AnyUrl

from prefect import flow


class Perm(enum.Flag):
    R = 4
    W = 2


@flow
def ipv4_mapped(a: ipaddress.IPv6Address = ipaddress.IPv6Address("::ffff:1.2.3.4"), b: int = 1):
    pass


@flow
def zoneinfo_tz(a: dt.datetime = dt.datetime(2024, 7, 1, tzinfo=ZoneInfo("Europe/Paris")), b: int = 1):
    pass


@flow
def url_needs_encoding(a: AnyUrl = AnyUrl("https://example.com/a b/../c"), b: int = 1):
    pass


@flow
def nested_set(a: List[FrozenSet[int]] = [frozenset({1, 2, 3})], b: int = 1):
    pass


@flow
def flag_combination(a: Perm = Perm.R | Perm.W, b: int = 1):
    pass
