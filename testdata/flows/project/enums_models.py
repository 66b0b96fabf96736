"""Enums and pydantic models in the same file and imported from the project."""
import enum
from enum import Enum, IntEnum
from typing import Dict, List, Optional

import pydantic
from pydantic import BaseModel, Field

from prefect import flow
from pkg.models import Address, Color, Level, Person


class Shape(Enum):
    CIRCLE = "circle"
    SQUARE = "square"


class Size(Enum):
    """Sizes with a docstring."""

    S = 1
    M = 2


class Mixed(enum.Enum):
    A = "a"
    B = 2


class Priority(IntEnum):
    LOW = 1
    HIGH = 10


class StrColor(str, Enum):
    BLUE = "blue"
    PINK = "pink"


class Point(BaseModel):
    x: int
    y: int = 0


class Config(pydantic.BaseModel):
    """Run configuration."""

    name: str = "default"
    retries: int = 3
    ratio: float = 0.5
    enabled: bool = True
    labels: Dict[str, str] = {}
    points: List[Point] = []
    origin: Optional[Point] = None
    shape: Shape = Shape.CIRCLE


class Plain:
    def __init__(self, v=1):
        self.v = v


@flow
def enum_param(s: Shape, z: Size = Size.M):
    pass


@flow
def enum_defaults(a: Shape = Shape.SQUARE, b: Priority = Priority.HIGH, c: StrColor = StrColor.PINK, d: Mixed = Mixed.B):
    pass


@flow
def optional_enum(a: Optional[Shape] = None, b: list[Shape] = [], c: Shape | None = Shape.CIRCLE):
    pass


@flow
def model_param(p: Point, c: Config = Config()):
    pass


@flow
def model_optional(p: Optional[Point] = None, ps: List[Point] = []):
    pass


@flow
def imported_models(person: Person, color: Color = Color.RED, level: Level = Level.LOW, addr: Optional[Address] = None):
    pass


@flow
def plain_class(p: Plain, q: Plain = None):
    pass


@flow
def model_default_dict(p: Point = Point(x=1, y=2)):
    pass


@flow
def mixed_everything(a: int, s: Shape, p: Point, c: Color = Color.GREEN, cfg: Optional[Config] = None):
    """Mix of everything.

    Args:
        a: an integer
        s: the shape
        p: a point
    """
