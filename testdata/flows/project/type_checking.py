from __future__ import annotations
import typing
from typing import TYPE_CHECKING, Optional, List
import datetime
from pydantic import BaseModel
from prefect import flow
if TYPE_CHECKING:
    from decimal import Decimal

class M(BaseModel):
    a: int = 1

@flow
def degraded(d: Decimal = None, o: Optional[int] = None, l: List[str] = [], m: M = None, t: datetime.date = None, u: int | None = None):
    pass


@flow
def typing_module_ok(a: "typing.Optional[int]" = None, b: "int | None" = None, c: "Optional[int]" = None, d: "Decimal" = None):
    pass
