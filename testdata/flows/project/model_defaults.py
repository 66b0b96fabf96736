from typing import List, Optional

from pydantic import BaseModel

from prefect import flow


class P(BaseModel):
    i: int
    f: float = 0.0
    s: Optional[str] = None
    tags: List[str] = []


@flow
def model_ctor(a: P = P(i=2.0, f=3), b: P = P(i=1, s="x", tags=["a"])):
    pass


@flow
def model_ctor_lax(c: P = P(i="5")):
    pass
