from pydantic import BaseModel

from pkg import cyc_a


class B(BaseModel):
    inner: "cyc_a.A" = None
