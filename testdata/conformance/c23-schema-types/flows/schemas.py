import datetime
from enum import Enum
from typing import Literal, Optional, Tuple, Union

from pydantic import BaseModel, Field

from prefect import flow


class Color(Enum):
    RED = "red"
    GREEN = "green"


class Settings(BaseModel):
    retries: int = 3
    name: str = Field(default="x", description="The name")


@flow(name="c23-schemas")
def schemas(
    when: datetime.datetime,
    day: datetime.date = datetime.date(2024, 1, 1),
    mode: Literal["fast", "slow"] = "fast",
    color: Color = Color.RED,
    settings: Settings = Settings(),
    maybe: Optional[int] = None,
    either: Union[int, str] = 1,
    pair: Tuple[int, str] = (1, "a"),
    numbers: list[int] = [1, 2],
    mapping: dict[str, float] = {"a": 1.5},
    delay: datetime.timedelta = datetime.timedelta(seconds=90),
    flag: bool = True,
):
    """Schemas.

    Args:
        when: when to run
        mode: how fast
    """
