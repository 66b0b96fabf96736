"""Field(title=...) in models, Annotated parameters and nested positions."""
from dataclasses import dataclass, field
from typing import Annotated, Dict, List, Optional

import pydantic
from pydantic import BaseModel, Field

from prefect import flow


class Inner(BaseModel):
    v: int = 0


class Titled(BaseModel):
    plain: int = Field(1, title="Plain Title")
    annotated: Annotated[str, Field(title="From Annotated")] = "a"
    both: Annotated[int, Field(title="Annotated Loses")] = Field(2, title="Assigned Wins")
    ref: Inner = Field(None, title="A Model")
    same_as_model: Inner = Field(None, title="Inner")
    optional: Optional[int] = Field(None, title="Maybe")
    empty: int = Field(0, title="")
    none_title: int = Field(0, title=None)
    snake_case_name: int = 0
    trailing_: int = 0
    nested: List[Annotated[int, Field(title="Item")]] = []


@dataclass
class DC:
    a: int = field(default=1, metadata={"title": "From Metadata"})


@flow
def model_titles(t: Titled = None, d: DC = None):
    pass


@flow
def param_titles(
    a: Annotated[int, Field(title="Prefect uses the name")] = 1,
    b: int = pydantic.Field(2, title="Ignored too"),
    c: Dict[str, Annotated[int, Field(title="Value")]] = {},
    d: Optional[Annotated[str, Field(title="Member")]] = None,
):
    pass
