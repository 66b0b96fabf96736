"""min_length and max_length on every kind of type."""
from typing import Annotated, Deque, Dict, FrozenSet, List, Optional, Set, Tuple

import annotated_types
from pydantic import AnyUrl, BaseModel, Field, StringConstraints, conlist, constr

from prefect import flow


class Lengths(BaseModel):
    s: str = Field("ab", min_length=1, max_length=5)
    b: bytes = Field(b"x", max_length=8)
    l: List[int] = Field([], max_length=3)
    st: Set[int] = Field(set(), min_length=0)
    fs: FrozenSet[str] = Field(frozenset(), max_length=2)
    t: Tuple[int, ...] = Field((), min_length=1)
    tf: Tuple[int, str] = Field((1, "a"), max_length=2)
    d: Dict[str, int] = Field({}, min_length=1, max_length=4)
    dq: Deque[int] = Field(None, max_length=2)
    o: Optional[List[int]] = Field(None, min_length=1)
    os: Optional[str] = Field(None, max_length=3)
    i: int = Field(0, max_length=2)
    u: AnyUrl = Field("https://example.com", max_length=100)
    sc: Annotated[str, StringConstraints(min_length=2, max_length=4, pattern=r"^[a-z]+$")] = "ab"
    cs: constr(min_length=3) = "abc"
    cl: conlist(int, min_length=0, max_length=2) = []
    ln: Annotated[List[int], annotated_types.Len(1, 3)] = [1]
    old: List[int] = Field([], min_items=1)


@flow
def model_lengths(x: Lengths = None):
    pass


@flow
def param_lengths(
    a: Annotated[str, Field(min_length=2)] = "ab",
    b: Annotated[List[int], Field(max_length=2)] = [],
    c: Annotated[Optional[Dict[str, int]], Field(min_length=1)] = None,
    d: List[Annotated[str, Field(max_length=3)]] = [],
):
    pass
