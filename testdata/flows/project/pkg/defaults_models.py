"""Enums and models used as defaults through an aliased module import."""
import enum as e

import pydantic as pd


class Shade(e.Enum):
    LIGHT = "light"
    DARK = "dark"


class Size(e.IntEnum):
    S = 1
    M = 2


class Point(pd.BaseModel):
    x: int = 0
    y: int = 0


class Box(pd.BaseModel):
    corner: Point = Point()
    shade: Shade = Shade.DARK
    label: str = pd.Field("box", alias="Label")
