"""Standard library and pydantic scalar types."""
import datetime
import datetime as dt
import uuid
from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID
import pathlib

from pydantic import SecretStr

from prefect import flow


@flow
def datetimes(a: datetime.datetime, b: date, c: time, d: timedelta, e: dt.date = None):
    pass


@flow
def timedelta_default(d: timedelta = timedelta(seconds=5), e: datetime.timedelta = datetime.timedelta(minutes=2, seconds=1)):
    pass


@flow
def uuids(a: UUID, b: uuid.UUID = None, c: "UUID" = None):
    pass


@flow
def paths(a: Path, b: pathlib.Path = Path("x/y"), c: Path = "relative/p"):
    pass


@flow
def decimals(a: Decimal, b: Decimal = Decimal("1.5")):
    pass


@flow
def secrets(a: SecretStr, b: SecretStr = None):
    pass


@flow
def date_defaults(a: date = date(2024, 1, 2), b: datetime.datetime = datetime.datetime(2024, 1, 2, 3, 4, 5)):
    pass


@flow
def optional_stdlib(a: datetime.datetime | None = None, b: list[UUID] = [], c: dict[str, Path] = {}):
    pass
