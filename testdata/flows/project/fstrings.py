from typing import List

from pydantic import BaseModel, Field

from prefect import flow

PREFIX = "etl"
VERSION = 2
RATIO = 0.5


class Limits(BaseModel):
    batch: int = Field(100, ge=1, le=1000)
    names: List[str] = Field(default=[], min_length=0, max_length=5)
    code: str = Field("A1", pattern=r"^[A-Z]\d$", description="the code")


@flow(name=f"{PREFIX}-daily", version=f"v{VERSION}", description=f"Runs {PREFIX!r} at {RATIO}")
def fstring_meta(path: str = f"{PREFIX}/data", n: str = f"{VERSION + 1}" "-x" f'{{literal}}'):
    pass


@flow(name=f"{PREFIX:>8}")
def fstring_spec():
    pass


@flow
def model_constraints(l: Limits = Limits()):
    pass
