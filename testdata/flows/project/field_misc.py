"""Field options without a schema key, dataclasses, and explicit None values."""
import dataclasses
from typing import Annotated, List, Optional, Union

import pydantic.dataclasses
from pydantic import BaseModel, Field

from prefect import flow


@pydantic.dataclasses.dataclass
class PydanticDC:
    """A pydantic dataclass."""

    n: int = Field(1, ge=0, description="count")
    tags: List[str] = Field(default_factory=list, max_length=3)


@dataclasses.dataclass
class StdDC:
    a: int = dataclasses.field(default=1, metadata={"description": "from metadata", "ge": 0, "unrelated": True})
    b: str = "b"


class Leaf(BaseModel):
    """A leaf."""

    v: int = 0


class NoEffect(BaseModel):
    s: int = Field(1, strict=True)
    u: Union[int, str] = Field(1, union_mode="left_to_right")
    c: str = Field("1", coerce_numbers_to_str=True)
    v: int = Field(1, validate_default=True, repr=False, alias_priority=2)
    ex: int = Field(1, exclude_if=lambda v: v == 0)
    nones: int = Field(1, ge=None, le=None, title=None, description=None, examples=None)
    zero: List[int] = Field([], min_length=0)
    leaf: Optional[Leaf] = Field(None, description="A leaf.")
    leaf2: Optional[Leaf] = Field(None, description="Another")
    fail: List[int] = Field([], fail_fast=True)
    inf: float = Field(0.0, allow_inf_nan=True)


@flow
def misc_fields(p: PydanticDC = None, s: StdDC = None, n: NoEffect = None):
    pass


@flow
def misc_params(
    a: Annotated[int, Field(strict=True, ge=0)] = 1,
    b: Optional[Leaf] = Field(None, description="param leaf"),
    c: Annotated[Optional[Leaf], Field(description="dropped")] = None,
):
    pass


def strip(v):
    return v.strip()


class Validated(BaseModel):
    a: Annotated[str, pydantic.AfterValidator(strip), Field(min_length=1)] = "a"
    b: Annotated[int, pydantic.BeforeValidator(int), Field(ge=0)] = 0
    c: Annotated[str, pydantic.PlainSerializer(str.upper)] = "c"


@flow
def validated_fields(v: Validated = None, w: Annotated[str, pydantic.WrapValidator(lambda v, h: h(v))] = "w"):
    pass
