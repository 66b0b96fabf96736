"""Models imported by flows elsewhere in the project."""
from enum import Enum, IntEnum
from typing import List, Optional

from pydantic import BaseModel, Field


class Color(str, Enum):
    RED = "red"
    GREEN = "green"


class Level(IntEnum):
    LOW = 1
    HIGH = 2


class Address(BaseModel):
    street: str
    city: str = "Paris"
    zip_code: Optional[str] = None


class Person(BaseModel):
    """A person."""

    name: str
    age: int = 0
    tags: List[str] = []
    address: Optional[Address] = None
    favourite: Color = Color.RED
