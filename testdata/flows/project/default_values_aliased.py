"""Defaults of every standard-library and pydantic type pydantic puts in a schema, imported through aliases."""
import datetime as dt
import decimal as dec
import enum as e
import fractions as fr
import ipaddress as ip
import pathlib as pl
import re as regex
import typing as t
import uuid as u
from datetime import time as Time, timezone as TZ

import pydantic as pd

import pkg.defaults_models as dm
from pkg import defaults_models as dm2
from prefect import flow


class Mode(e.Enum):
    FAST = "fast"
    SLOW = e.auto()


class Nested(pd.BaseModel):
    at: dt.datetime = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    box: dm.Box = dm.Box(Label="lid", corner=dm.Point(x=1, y=2))


@flow
def aliased_dates(
    d: dt.date = dt.date(2024, 1, 2),
    t1: dt.time = dt.time(1, 2),
    t2: Time = Time(3, 4, 5, tzinfo=TZ.utc),
    t3: dt.time = dt.time(6, 7, tzinfo=dt.timezone(dt.timedelta(hours=9))),
    when: dt.datetime = dt.datetime(2024, 1, 2, 3, 4, 5, 6),
    when_utc: dt.datetime = dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
    delta: dt.timedelta = dt.timedelta(weeks=1, minutes=-1),
    tmax: dt.datetime = dt.datetime.max,
):
    pass


@flow
def aliased_values(
    a: dec.Decimal = dec.Decimal("0.0000001"),
    b: fr.Fraction = fr.Fraction(3),
    c: u.UUID = u.UUID("12345678-1234-5678-1234-567812345678"),
    d: pl.Path = pl.Path("a", "b", "c.txt"),
    e_: pl.PurePosixPath = pl.PurePosixPath("/x"),
    f: ip.IPv6Address = ip.IPv6Address("2001:db8::1"),
    g: ip.IPv4Network = ip.ip_network("172.16.0.0/12"),
    h: ip.IPv4Interface = ip.IPv4Interface("172.16.0.1/12"),
    i: pd.SecretStr = pd.SecretStr("x"),
    j: pd.SecretBytes = pd.SecretBytes(b""),
    k: pd.AnyUrl = pd.AnyUrl("HTTPS://WWW.Example.org:443"),
    l: pd.HttpUrl = pd.HttpUrl("https://example.org/a/b/"),
    m: t.Pattern = regex.compile("x+"),
    n: bytes = bytes(b"bb"),
    o: t.FrozenSet[int] = frozenset({10, -1, 5}),
):
    pass


@flow
def aliased_enums_and_models(
    shade: dm.Shade = dm.Shade.LIGHT,
    size: dm2.Size = dm2.Size.M,
    mode: Mode = Mode.SLOW,
    point: dm.Point = dm.Point(x=3),
    box: dm2.Box = dm2.Box(),
    nested: Nested = Nested(),
    listed: t.List[dm.Point] = [dm.Point(), dm.Point(y=1)],
):
    pass


class Stamped(pd.BaseModel):
    on: dt.date
    at: dt.datetime = dt.datetime(2020, 1, 1)
    span: dt.timedelta = dt.timedelta(0)
    ident: u.UUID
    amount: dec.Decimal = dec.Decimal("0")
    where: pl.Path = pl.Path(".")
    host: ip.IPv4Address = ip.IPv4Address("127.0.0.1")
    url: pd.AnyUrl = pd.AnyUrl("http://x.org")
    token: pd.SecretStr = pd.SecretStr("")
    clock: Time = Time(9)


@flow
def aliased_model_arguments(
    s: Stamped = Stamped(
        on=dt.date(2024, 3, 4),
        at=dt.datetime(2024, 3, 4, 5, 6, tzinfo=dt.timezone.utc),
        span=dt.timedelta(hours=1),
        ident=u.UUID("12345678-1234-5678-1234-567812345678"),
        amount=dec.Decimal("9.99"),
        where=pl.Path("out"),
        host=ip.IPv4Address("10.0.0.1"),
        url=pd.AnyUrl("HTTP://X.ORG:80/a"),
        token=pd.SecretStr("t"),
        clock=Time(10, 30),
    ),
):
    pass
