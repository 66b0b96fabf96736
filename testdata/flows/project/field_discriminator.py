"""Discriminated unions: Field(discriminator=...) on unions of models."""
from typing import Annotated, List, Literal, Optional, Union

from pydantic import BaseModel, Field

from prefect import flow


class Cat(BaseModel):
    pet_type: Literal["cat"] = "cat"
    meows: int = 0


class Dog(BaseModel):
    pet_type: Literal["dog", "puppy"]
    barks: float = 0.0


class Lizard(BaseModel):
    pet_type: Literal["lizard"] = Field("lizard", alias="petType")


class Owner(BaseModel):
    pet: Union[Cat, Dog] = Field(..., discriminator="pet_type")
    maybe: Optional[Union[Cat, Dog]] = Field(None, discriminator="pet_type")
    annotated: Annotated[Union[Cat, Dog], Field(discriminator="pet_type")] = None
    many: List[Annotated[Union[Cat, Dog], Field(discriminator="pet_type")]] = []
    pep604: Cat | Dog = Field(None, discriminator="pet_type")
    optional_annotated: Optional[Annotated[Union[Cat, Dog], Field(discriminator="pet_type")]] = None


class Numbered(BaseModel):
    kind: Literal[1] = 1


class Lettered(BaseModel):
    kind: Literal[2] = 2


class Tagged(BaseModel):
    x: Union[Numbered, Lettered] = Field(None, discriminator="kind")


@flow
def model_discriminators(o: Owner, t: Tagged = None):
    pass


@flow
def param_discriminator(
    pet: Annotated[Union[Cat, Dog], Field(discriminator="pet_type")],
    other: Annotated[Optional[Union[Cat, Dog]], Field(discriminator="pet_type")] = None,
):
    pass
