"""A flow whose parameters cover the JSON Schema forms pydantic and Prefect
give parameters; parameters_conformance_test.go sends values for them to a
real Prefect server and compares its verdicts with prefectctl's."""

from datetime import date, datetime
from enum import Enum
from typing import Dict, List, Literal, Optional, Set, Tuple, Union

from pydantic import BaseModel, Field, conint, constr

from prefect import flow
from prefect.blocks.system import Secret


class Color(Enum):
    RED = "red"
    GREEN = "green"


class Inner(BaseModel):
    a: int
    b: str = "x"


class Outer(BaseModel):
    inner: Inner
    tags: List[str] = []
    counts: List[int] = Field(default_factory=list)


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = 9


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool = True


@flow
def conformance(
    x: int,
    optreq: Optional[int],
    y: float = 1.0,
    s: str = "a",
    lit: Literal["a", "b"] = "a",
    color: Color = Color.RED,
    opt: Optional[int] = None,
    model: Outer = None,
    maybe_model: Optional[Outer] = None,
    lst: List[int] = [1],
    tup: Tuple[int, str] = (1, "a"),
    dt: datetime = None,
    d: date = None,
    b: bool = False,
    anyv=None,
    u: Union[int, str] = 1,
    dct: Dict[str, int] = {},
    bounded: conint(ge=1, le=10) = 5,
    ratio: float = Field(default=0.5, gt=0, lt=1, multiple_of=0.25),
    code: constr(pattern=r"^[a-z]+\d$", min_length=2, max_length=5) = "ab1",
    names: Set[str] = set(),
    few: List[int] = Field(default=[1], max_length=3, min_length=1),
    pet: Union[Cat, Dog] = Field(default=None, discriminator="kind"),
    secret: Secret = None,
    required: int = 0,
):
    return x
