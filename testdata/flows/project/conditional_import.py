"""Imports chosen at run time by a condition: both branches bind the same names."""
import sys

if sys.version_info >= (3, 9):
    from prefect import flow
    from typing import Annotated
else:  # pragma: no cover
    from prefect.flows import flow
    from typing_extensions import Annotated

from pydantic import Field

if sys.version_info < (3, 11):  # never true where Prefect 3.9.1 runs
    LIMIT = 1
elif sys.version_info >= (3, 12):
    LIMIT = 2
else:
    LIMIT = 3

if sys.version_info[:2] > (3, 8):
    WIDTH = 10
else:  # pragma: no cover
    WIDTH = 20

if sys.platform == "win32":  # pragma: no cover
    DEFAULT_ROOT = "C:\\data"
else:
    DEFAULT_ROOT = "/data"


@flow
def conditional_flow(root: str = DEFAULT_ROOT, n: Annotated[int, Field(ge=1)] = 1, width: int = WIDTH):
    pass
