"""default_factory: no default in the schema, not required; lost on a parameter's Field."""
import dataclasses
from typing import Annotated, Dict, List

from pydantic import BaseModel, Field

from prefect import flow


def make():
    return [1]


class Factories(BaseModel):
    l: List[int] = Field(default_factory=list)
    d: Dict[str, int] = Field(default_factory=dict, description="made")
    f: List[int] = Field(default_factory=make)
    lam: List[int] = Field(default_factory=lambda: [1, 2])
    ann: Annotated[List[int], Field(default_factory=list)]


@dataclasses.dataclass
class DC:
    items: List[int] = dataclasses.field(default_factory=list)
    n: int = dataclasses.field(default=3)


@flow
def model_factories(f: Factories = None, dc: DC = None):
    pass


@flow
def param_factories(a: List[int] = Field(default_factory=list), b: Dict[str, int] = Field(default_factory=dict, description="d")):
    pass


@flow
def param_factory_only(a: Annotated[List[int], Field(default_factory=list)], b: int = 1):
    pass


class Limits(BaseModel):
    cpu: str = "500m"


class Job(BaseModel):
    limits: Limits = Field(default_factory=Limits, description="made by the model class")
    tags: List[str] = Field(default_factory=list)
    env: Dict[str, str] = Field(default_factory=dict)


@flow
def factory_defaults(job: Job = Job(), other: Job = Job(tags=["a"])):
    pass
