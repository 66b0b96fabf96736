"""More pydantic and Enum shapes."""
from enum import Enum, IntEnum, auto
from typing import Annotated, Any, ClassVar, Dict, List, Literal, Optional, Union

from pydantic import BaseModel, Field

from prefect import flow

IntList = List[int]
MaybeStr = Optional[str]


class Base(BaseModel):
    id: int
    label: str = "base"


class Child(Base):
    """A child model."""

    extra: Optional[float] = None
    label: str = "child"
    counter: ClassVar[int] = 0
    _private: int = 1


class WithFields(BaseModel):
    required_field: int = Field(...)
    described: str = Field("d", description="A described field")
    titled: int = Field(default=2, title="Custom Title")
    factory: List[int] = Field(default_factory=list)


class Later(BaseModel):
    child: "Leaf"
    leaves: List["Leaf"] = []


class Leaf(BaseModel):
    value: int = 0


class Auto(Enum):
    ONE = auto()
    TWO = auto()


class Weekday(IntEnum):
    MON = 1
    TUE = auto()


class Kind(str, Enum):
    A = "a"
    ALIAS = "a"
    B = "b"


class Lits(BaseModel):
    mode: Literal["r", "w"] = "r"
    flags: Dict[str, bool] = {}


@flow
def inherited_model(c: Child, b: Base = Base(id=1)):
    pass


@flow
def field_models(w: WithFields):
    pass


@flow
def forward_ref_model(l: Later, leaf: Leaf = Leaf(value=3)):
    pass


@flow
def auto_enums(a: Auto = Auto.TWO, w: Weekday = Weekday.TUE):
    pass


@flow
def enum_alias(k: Kind = Kind.ALIAS):
    pass


@flow
def type_aliases(a: IntList = [], b: MaybeStr = None, c: Optional[IntList] = None):
    pass


@flow
def literal_more(a: Literal[-1, 0, 1] = 0, b: Literal[True, False] = False, c: Literal["x", None] = None, d: Lits = Lits()):
    pass


@flow
def union_any(a: Union[int, Any] = 1, b: Optional[Any] = None, c: List[Any] = [], d: Dict[str, Optional[Any]] = {}):
    pass


@flow
def annotated_field(a: Annotated[int, Field(ge=1, le=10)] = 5, b: Annotated[str, Field(min_length=2, description="bee")] = "bb"):
    pass


@flow
def field_default(a: int = Field(default=3, description="from Field"), b: str = Field("x", title="ignored title")):
    pass


@flow
def special_floats(a: float = -0.0, b: float = 1_000.5, c: float = 2.5e-3, d: float = 1e16, e: float = 123456789.123):
    pass


@flow
def enum_containers(a: List[Kind] = [Kind.A, Kind.B], b: Dict[str, Kind] = {"k": Kind.B}, c: Kind = "a", d: Optional[Kind] = None):
    pass


@flow(name=None, version=None)
def none_keywords():
    pass
