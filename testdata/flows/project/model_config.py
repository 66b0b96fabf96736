from pydantic import BaseModel, ConfigDict, Field

from prefect import flow


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Strict Settings", frozen=True)

    x: int = Field(1, alias="X")
    y: str = "y"


class Loose(BaseModel):
    class Config:
        extra = "allow"

    z: int


class Child(Strict):
    w: float = 0.5


@flow
def configured(s: Strict, l: Loose = None, c: Child = None):
    pass
