"""Field(json_schema_extra=...) and the deprecated extra keyword arguments."""
from typing import Annotated, List, Optional

from pydantic import BaseModel, Field

from prefect import flow


class Form(BaseModel):
    name: str = Field(..., json_schema_extra={"position": 0})
    email: str = Field(..., json_schema_extra={"position": 1, "format": "email"})
    age: int = Field(0, json_schema_extra={"position": 2, "ui": {"widget": "slider", "steps": [1, 5]}})
    overrides: int = Field(1, ge=0, title="T", json_schema_extra={"title": "From Extra", "default": 9, "minimum": 5})
    merged: Annotated[int, Field(json_schema_extra={"a": 1, "b": 1})] = Field(0, json_schema_extra={"b": 2})
    old_style: int = Field(0, position=3, widget="number")
    both: int = Field(0, position=4, json_schema_extra={"wins": True})
    none_extra: int = Field(0, json_schema_extra=None)
    tuple_value: int = Field(0, json_schema_extra={"t": (1, 2)})
    items: List[Annotated[int, Field(json_schema_extra={"x-item": True})]] = []
    maybe: Optional[int] = Field(None, json_schema_extra={"nullable": True})


@flow
def model_extra(form: Form):
    pass


@flow
def param_extra(
    a: int = Field(1, json_schema_extra={"position": 7, "x-a": "a"}),
    b: Annotated[int, Field(json_schema_extra={"x-b": 1, "position": 99})] = 2,
    c: Annotated[int, Field(json_schema_extra={"x-c": 1})] = Field(3, json_schema_extra={"x-d": 2}),
    d: int = Field(4, json_schema_extra={"title": "Shown Title", "description": "from extra"}),
    e: int = Field(5, position=0),
):
    pass
