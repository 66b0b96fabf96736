from __future__ import annotations

from typing import Optional
from datetime import datetime

from prefect import flow


class Local:
    pass


@flow
def future_flow(a: int, b: Optional[str] = None, c: list[int] = [], d: datetime | None = None, e: dict[str, int | None] = {}):
    pass


@flow
def future_pep604(a: int | str = 1, b: Optional[list[str]] = None):
    pass
