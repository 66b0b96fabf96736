"""Field(description=...): models, parameters, docstrings and nested positions."""
from typing import Annotated, List, Optional

from pydantic import BaseModel, Field

from prefect import flow


class Color(BaseModel):
    """A colour."""

    r: int = 0


class Described(BaseModel):
    """Model docstring."""

    a: int = Field(1, description="Assigned")
    b: Annotated[int, Field(description="Annotated")] = 2
    c: Annotated[int, Field(description="Annotated")] = Field(3, description="Assigned wins")
    d: Color = Field(None, description="A colour.")
    e: Color = Field(None, description="Another colour")
    f: List[Annotated[str, Field(description="one tag")]] = []
    g: str = Field("", description="")


@flow
def model_descriptions(m: Described):
    pass


@flow
def param_descriptions(
    a: int = Field(1, description="from Field"),
    b: Annotated[int, Field(description="dropped by Prefect")] = 2,
    c: Annotated[int, Field(description="dropped")] = Field(3, description="kept"),
    d: int = Field(4, description=""),
    e: Optional[Annotated[int, Field(description="member")]] = None,
    f: int = 6,
):
    """Docstring descriptions.

    Args:
        a: docstring loses to Field
        d: docstring wins over an empty Field description
        f: docstring only
    """
