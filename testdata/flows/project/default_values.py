"""Defaults of every standard-library and pydantic type pydantic puts in a schema, imported directly."""
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum, Flag, IntEnum, StrEnum, auto
from fractions import Fraction
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
    ip_address,
    ip_interface,
    ip_network,
)
from pathlib import Path, PurePosixPath
from re import Pattern, compile
from collections import Counter, OrderedDict, defaultdict, deque
from typing import Any, DefaultDict, Deque, Dict, FrozenSet, Optional, Set, Tuple
from uuid import UUID

from pydantic import AnyHttpUrl, AnyUrl, BaseModel, Field, HttpUrl, IPvAnyAddress, SecretBytes, SecretStr

from prefect import flow


class Mode(Enum):
    FAST = "fast"
    SLOW = "slow"
    QUICK = "fast"


class Level(IntEnum):
    LOW = 1
    HIGH = auto()


class Letter(StrEnum):
    A = auto()
    B = auto()


class Perm(Flag):
    R = 4
    W = 2


class Inner(BaseModel):
    when: date = date(2024, 1, 2)
    mode: Mode = Mode.SLOW


class Outer(BaseModel):
    inner: Inner = Inner()
    items: Tuple[int, ...] = (1, 2)
    name: str = Field("o", alias="Name")
    secret: str = Field("s", exclude=True)


class Holder(BaseModel):
    t: time = time(1, 2, 3)
    d: Decimal = Decimal("2.50")
    ip: IPv4Address = IPv4Address("10.1.2.3")
    u: UUID = UUID("12345678123456781234567812345678")
    s: FrozenSet[int] = frozenset({3, 1, 2})


@flow
def dates_and_times(
    d: date = date(2024, 2, 29),
    t: time = time(1, 2),
    t_us: time = time(23, 59, 59, 5000),
    t_utc: time = time(12, 0, tzinfo=timezone.utc),
    t_off: time = time(8, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    dt: datetime = datetime(2024, 1, 2, 3, 4, 5),
    dt_us: datetime = datetime(2024, 1, 2, 3, 4, 5, 120),
    dt_utc: datetime = datetime(2024, 1, 2, tzinfo=timezone.utc),
    dt_off: datetime = datetime(2024, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=2))),
    dt_kw: datetime = datetime(year=2020, month=5, day=6, hour=7, fold=1),
    td: timedelta = timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5),
    td_neg: timedelta = timedelta(days=-1, seconds=5),
    td_frac: timedelta = timedelta(seconds=0.25),
    td_zero: timedelta = timedelta(),
    dmin: date = date.min,
    tmax: time = time.max,
):
    pass


@flow
def numbers_and_text(
    dec: Decimal = Decimal("1.50"),
    dec_exp: Decimal = Decimal("-1.2e-8"),
    dec_big: Decimal = Decimal("1E+3"),
    dec_int: Decimal = Decimal(42),
    dec_float: Decimal = Decimal(0.1),
    dec_nan: Decimal = Decimal("NaN"),
    dec_inf: Decimal = Decimal("-inf"),
    dec_under: Decimal = Decimal("1_000.5"),
    dec_tuple: Decimal = Decimal((1, (0, 1, 4), -3)),
    frac: Fraction = Fraction(2, 4),
    frac_str: Fraction = Fraction("-3/9"),
    c: complex = 1.5 - 2j,
    c_real: complex = complex(2, 0),
    pat: Pattern = compile(r"^\d+$"),
    b: bytes = b"raw",
    ba: bytearray = bytearray(b"ba"),
    big: float = float("1e300"),
):
    pass


@flow
def identifiers_and_paths(
    u: UUID = UUID("{12345678-1234-5678-1234-567812345678}"),
    u_urn: UUID = UUID("urn:uuid:12345678-1234-5678-1234-567812345678"),
    u_hex: UUID = UUID(hex="ABCDEF00112233445566778899AABBCC"),
    p: Path = Path("data", "raw/"),
    p_abs: Path = Path("/var//log/./app"),
    pp: PurePosixPath = PurePosixPath("a/b"),
    p_empty: Path = Path(),
):
    pass


@flow
def enums(
    mode: Mode = Mode.SLOW,
    alias: Mode = Mode.QUICK,
    level: Level = Level.HIGH,
    letter: Letter = Letter.B,
    perm: Perm = Perm.W,
    any_mode: Any = Mode.FAST,
    optional: Optional[Level] = Level.LOW,
):
    pass


@flow
def secrets_and_addresses(
    s: SecretStr = SecretStr("hunter2"),
    s_empty: SecretStr = SecretStr(""),
    sb: SecretBytes = SecretBytes(b"key"),
    v4: IPv4Address = IPv4Address("192.168.0.1"),
    v4_int: IPv4Address = IPv4Address(3232235521),
    v6: IPv6Address = IPv6Address("2001:0DB8:0000:0000:0000:ff00:0042:8329"),
    v6_zeros: IPv6Address = IPv6Address("0:0:0:0:0:0:0:1"),
    n4: IPv4Network = IPv4Network("10.0.0.0/8"),
    n6: IPv6Network = IPv6Network("2001:db8::/32"),
    i4: IPv4Interface = IPv4Interface("10.0.0.5/24"),
    i6: IPv6Interface = IPv6Interface("fe80::1/64"),
    a: IPvAnyAddress = ip_address("1.1.1.1"),
    n: Any = ip_network("192.168.0.0/16"),
    i: Any = ip_interface("::1"),
    host: IPv4Network = IPv4Network("10.0.0.1"),
):
    pass


@flow
def urls(
    a: AnyUrl = AnyUrl("https://Example.COM"),
    b: HttpUrl = HttpUrl("http://example.com:80/path?q=1#frag"),
    c: AnyHttpUrl = AnyHttpUrl("https://example.com:8443/"),
    d: AnyUrl = AnyUrl("postgres://user:pw@db.example.com:5432/app"),
    e: AnyUrl = AnyUrl("s3://Bucket/Key"),
    f: HttpUrl = "http://not.validated",
):
    pass


@flow
def collections_and_models(
    fs: FrozenSet[int] = frozenset({3, 1, 2}),
    fs_str: FrozenSet[str] = frozenset({"b", "c", "a"}),
    st: Set[float] = {2.5, 1, 0.5},
    one: FrozenSet[str] = frozenset(["only"]),
    empty: FrozenSet[int] = frozenset(),
    tup: Tuple[int, str] = (1, "a"),
    inner: Inner = Inner(mode=Mode.FAST),
    outer: Outer = Outer(Name="n"),
    holder: Holder = Holder(),
    dq: Deque[int] = deque([3, 1, 2]),
    od: Dict[str, int] = OrderedDict([("b", 2), ("a", 1)]),
    counts: Dict[str, int] = Counter("abca"),
    dd: DefaultDict[str, int] = defaultdict(int, {"x": 1}),
    dd_kw: DefaultDict[str, list] = defaultdict(list, y=[1]),
):
    pass
