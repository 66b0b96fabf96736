"""A default and an Annotated default_factory: pydantic refuses the parameter, Prefect cannot load the flow."""
from typing import Annotated, List

from pydantic import Field

from prefect import flow


@flow
def param_factory_and_default(a: Annotated[List[int], Field(default_factory=list)] = [1]):
    pass

