from prefect import flow

from pkg.models import Color, Person


@flow(name="module-flow")
def module_flow(p: Person, c: Color = Color.GREEN):
    """Loaded through a module path."""


@flow
def dotted_flow(x: int = 1):
    pass
