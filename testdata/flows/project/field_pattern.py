"""pattern on strings, optional strings and types that do not take it."""
import re
from enum import Enum
from typing import Annotated, Any, Dict, List, Optional

from pydantic import BaseModel, Field

from prefect import flow


class Key(str, Enum):
    A = "a"


class Patterned(BaseModel):
    keys: Dict[Annotated[str, Field(pattern="^k", min_length=2, title="Key")], int] = {}
    enum_keys: Dict[Key, Annotated[Any, Field(description="anything")]] = {}
    untitled_values: Dict[str, Annotated[int, Field(title="Dropped", ge=0)]] = {}
    a: str = Field("abc", pattern=r"^[a-z]+$")
    b: Optional[str] = Field(None, pattern="^x")
    c: List[Annotated[str, Field(pattern=r"\d+")]] = []
    d: str = Field("a", pattern=re.compile("^a"))
    e: int = Field(1, pattern="^1$")
    f: str = Field("x", pattern="^x", min_length=1, max_length=3)
    g: int = Field(1, pattern="^1$", ge=0)


@flow
def model_patterns(p: Patterned = None):
    pass


@flow
def param_patterns(a: Annotated[str, Field(pattern="^[A-Z]{3}$")] = "ABC", b: str = Field("x", pattern="dropped")):
    pass
