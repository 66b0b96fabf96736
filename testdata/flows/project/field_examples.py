"""Field(examples=...)."""
import datetime
from decimal import Decimal
from typing import Annotated, List

from pydantic import BaseModel, Field

from prefect import flow


class Ex(BaseModel):
    a: int = Field(1, examples=[1, 2, 3])
    b: str = Field("x", examples=["x", "y"])
    c: Annotated[List[int], Field(examples=[[1], [2, 3]])] = []
    d: datetime.date = Field(None, examples=[datetime.date(2024, 1, 2)])
    e: Decimal = Field(Decimal("1.0"), examples=[Decimal("1.5")])
    f: int = Field(0, examples=[])
    g: Annotated[int, Field(examples=[1])] = Field(0, examples=[2])
    h: tuple = Field((), examples=[(1, 2)])


@flow
def model_examples(e: Ex = None):
    pass


@flow
def param_examples(
    a: Annotated[int, Field(examples=[10, 20])] = 10,
    b: int = Field(1, examples=[5]),
    c: List[Annotated[str, Field(examples=["tag"])]] = [],
):
    pass
