"""Without parameter validation the flow loads; the schema model refuses the type, so Prefect uses Any."""
from typing import Annotated, List

from pydantic import Field

from prefect import flow


@flow(validate_parameters=False)
def unvalidated_factory_and_default(a: Annotated[List[int], Field(default_factory=list)] = [1], b: int = 2):
    pass
