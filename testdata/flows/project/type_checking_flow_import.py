"""The flow decorator is imported for type checkers only: NameError when the module runs."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect import flow


@flow
def checked_flow(n: int = 1):
    return n
