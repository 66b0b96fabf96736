from pydantic import BaseModel

from prefect import flow


class A(BaseModel):
    a: int = 1


from pkg.cyc_b import B  # noqa: E402  (cycle: cyc_b imports this module)


@flow
def cyclic(a: A = None, b: B = None):
    pass
