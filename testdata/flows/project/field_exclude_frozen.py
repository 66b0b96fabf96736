"""exclude and frozen: no change to the validation schema; exclude drops fields from model defaults."""
from typing import Annotated

from pydantic import BaseModel, Field

from prefect import flow


class Settings(BaseModel):
    token: str = Field("t", exclude=True)
    name: str = Field("n", frozen=True)
    both: Annotated[int, Field(exclude=True, frozen=True)] = 1
    aliased: int = Field(2, alias="Aliased", exclude=False)


class Outer(BaseModel):
    s: Settings = Settings()


@flow
def model_exclude(s: Settings = Settings(name="x"), o: Outer = None):
    pass


@flow
def param_exclude(a: Annotated[int, Field(exclude=True, frozen=True, repr=False)] = 1, b: int = Field(2, frozen=True)):
    pass
