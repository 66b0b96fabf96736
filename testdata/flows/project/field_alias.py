"""alias, validation_alias, serialization_alias, AliasPath, AliasChoices."""
from typing import Annotated

from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, Field

from prefect import flow


class Aliased(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    a: int = Field(1, alias="A")
    b: int = Field(..., alias="bee_value")
    c: int = Field(3, validation_alias="C_in")
    d: int = Field(4, serialization_alias="D_out")
    e: int = Field(5, alias="E", validation_alias="E_in", serialization_alias="E_out")
    f: int = Field(6, validation_alias=AliasChoices("f_first", "f_second"))
    g: int = Field(7, validation_alias=AliasPath("g_path", 0))
    h: int = Field(8, validation_alias=AliasChoices(AliasPath("h", "x"), "h_plain"))
    i: Annotated[int, Field(alias="I_annotated")] = 9
    j: Annotated[int, Field(alias="J_annotated")] = Field(10, alias="J_assigned")
    k_snake: int = Field(11, alias="kSnake")


class Holder(BaseModel):
    inner: Aliased = Aliased(bee_value=2, A=5)


@flow
def model_aliases(m: Aliased = None, h: Holder = None):
    pass


@flow
def param_aliases(
    a: Annotated[int, Field(alias="not_used")] = 1,
    b: Annotated[int, Field(validation_alias="not_used_either")] = 2,
    c: int = Field(3, alias="ignored"),
):
    pass
