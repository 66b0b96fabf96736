"""Field(deprecated=...) and @deprecated models."""
from typing import Annotated

from pydantic import BaseModel, Field
from typing_extensions import deprecated

from prefect import flow


@deprecated("use New")
class Old(BaseModel):
    a: int = 1


class Child(Old):
    b: int = 2


class Dep(BaseModel):
    t: int = Field(0, deprecated=True)
    msg: int = Field(0, deprecated="use other")
    f: int = Field(0, deprecated=False)
    empty: int = Field(0, deprecated="")
    ann: Annotated[int, Field(deprecated=True)] = 0
    old: Old = None
    child: Child = None


@flow
def model_deprecated(d: Dep = None):
    pass


@flow
def param_deprecated(
    a: Annotated[int, Field(deprecated=True)] = 1,
    b: Annotated[int, Field(deprecated="gone")] = 2,
    c: int = Field(3, deprecated=True),
):
    pass
