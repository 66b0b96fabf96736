"""gt, ge, lt, le, multiple_of on numbers, and where pydantic puts them otherwise."""
import datetime
from decimal import Decimal
from typing import Annotated, Any, List, Optional, Union

import annotated_types
from pydantic import BaseModel, Field, NonNegativeInt, PositiveInt, conint

from prefect import flow


class Num(BaseModel):
    i: int = Field(5, gt=0, lt=10)
    f: float = Field(0.5, ge=0.0, le=1.0, multiple_of=0.25)
    big: int = Field(0, le=10**20)
    opt: Optional[int] = Field(None, ge=1)
    opt_union: Optional[Union[int, float]] = Field(None, ge=1)
    union: Union[int, str] = Field(1, ge=1)
    any_: Any = Field(None, gt=0)
    listed: List[Annotated[int, Field(ge=0)]] = []
    dec: Decimal = Field(Decimal("1"), ge=0, lt=Decimal("100.5"), max_digits=5, decimal_places=2)
    date_: datetime.date = Field(None, ge=datetime.date(2020, 1, 1))
    td: datetime.timedelta = Field(None, le=datetime.timedelta(days=1))
    pos: PositiveInt = Field(1, le=100)
    nonneg: NonNegativeInt = 0
    con: conint(gt=1, multiple_of=2) = 2
    at: Annotated[int, annotated_types.Interval(ge=1, lt=5), annotated_types.MultipleOf(2)] = 2
    inf: float = Field(0.0, le=float("inf"))
    allow: float = Field(0.0, allow_inf_nan=False, ge=0)
    mixed: Annotated[int, Field(ge=1), Field(le=9)] = 5


@flow
def model_numeric(n: Num = None):
    pass


@flow
def param_numeric(
    a: Annotated[int, Field(ge=1, le=10)] = 5,
    b: Annotated[Optional[float], Field(gt=0)] = None,
    c: int = Field(3, ge=1),
    d: Annotated[Union[int, str], Field(lt=100)] = 1,
    e: Annotated[bool, Field(ge=0)] = True,
):
    pass
