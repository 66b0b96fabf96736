"""model_config settings that change the schema: title, json_schema_extra, extra."""
from typing import Optional

from pydantic import BaseModel, ConfigDict, Extra

from prefect import flow


class Titled(BaseModel):
    model_config = ConfigDict(title="Custom Title")
    a: int = 1


class ExtraSchema(BaseModel):
    """Docstring description."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"a": 1}], "description": "Overridden", "x-ui": {"order": ["a"]}})
    a: int = 1


class Forbid(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: int = 1


class Allow(BaseModel):
    model_config = {"extra": "allow", "title": "Dict Config"}
    a: int = 1


class Ignore(BaseModel):
    model_config = ConfigDict(extra="ignore")
    a: int = 1


class OldConfig(BaseModel):
    class Config:
        title = "Old Style"
        extra = Extra.forbid
        json_schema_extra = {"x-old": True}

    a: int = 1


class Inherits(ExtraSchema):
    b: Optional[int] = None


class Overrides(Titled):
    model_config = ConfigDict(title="Sub Title", json_schema_extra={"title": "Extra Wins"})


@flow
def config_options(
    t: Titled = None, e: ExtraSchema = None, f: Forbid = None, a: Allow = None, i: Ignore = None,
    o: OldConfig = None, inh: Inherits = None, ov: Overrides = None,
):
    pass
