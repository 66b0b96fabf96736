"""Defaults whose Python type differs from the annotation."""
import datetime
import uuid
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import List, Optional, Set, Tuple

from prefect import flow


class Prio(IntEnum):
    LOW = 1
    HIGH = 10


@flow
def mismatched(a: float = 1, b: int = True, c: str = 5, d: Path = Path("x/./y/"), e: datetime.date = "2024-01-01", f: List[int] = (1, 2), g: Set[int] = {1}, h: bytes = "text"):
    pass


@flow
def mismatched_more(i: Decimal = 1.5, j: uuid.UUID = uuid.UUID("12345678-1234-5678-1234-567812345678"), k: datetime.timedelta = 5, l: Optional[float] = 1, m: Prio = 10, n: Tuple[int, str] = [1, "a"]):
    pass


@flow
def float_reprs(a: float = 1e-7, b: float = 0.1 + 0.2, c: float = 1e22, d: float = 123456789012345678.0, e: float = 5e-324, f: float = 1.5e300 * 1.0):
    pass
