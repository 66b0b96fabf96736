"""Bindings inside if/try blocks and the __main__ guard."""
import sys

try:
    from pydantic import BaseModel
except ImportError:  # pragma: no cover
    BaseModel = object

from prefect import flow

if sys.version_info >= (3, 9):
    Number = int
else:
    Number = float


class Params(BaseModel):
    n: Number = 1


@flow
def guarded(p: Params, n: Number = 2):
    """Real flow."""


if __name__ == "__main__":
    @flow(name="not-this-one")
    def guarded():
        pass

    guarded()
