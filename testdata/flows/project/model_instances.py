"""Model instances as defaults: constrained fields, float fields with int defaults, dataclasses."""
from typing import Annotated, List, Literal, Optional

import pydantic.dataclasses
from pydantic import BaseModel, Field, StringConstraints, field_validator

from prefect import flow

Slug = Annotated[str, Field(pattern=r"^[a-z-]+$", min_length=3)]


@pydantic.dataclasses.dataclass
class Point:
    x: float = 0
    y: Optional[float] = 1


class Report(BaseModel):
    slug: Slug = "weekly"
    ratio: float = 1
    limit: Annotated[int, Field(ge=1, le=100)] = 10
    origin: Point = Point()


class Normalised(BaseModel):
    name: Annotated[str, StringConstraints(to_lower=True)] = "x"


class Checked(BaseModel):
    name: str = "x"

    @field_validator("name")
    @classmethod
    def upper(cls, v):
        return v.upper()


class Col(BaseModel):
    name: str = Field(..., description="column")
    kind: Literal["int", "str"] = "str"


@flow
def instance_defaults(r: Report = Report(slug="daily", limit=5), p: Point = Point(x=2), cols: List[Col] = [Col(name="id", kind="int")]):
    pass


@flow
def transformed_argument(n: Normalised = Normalised(name="ABC"), i: int = 1):
    pass


@flow
def validated_argument(c: Checked = Checked(name="abc"), i: int = 1):
    pass
