"""json_schema_extra as a function runs only in Python."""
from pydantic import BaseModel, Field

from prefect import flow


def add_widget(schema):
    schema["widget"] = "slider"


class WithCallable(BaseModel):
    a: int = Field(1, json_schema_extra=add_widget)
    b: int = Field(2, json_schema_extra={"kept": True})


@flow
def model_extra_callable(m: WithCallable = None):
    pass


@flow
def param_extra_callable(a: int = Field(1, json_schema_extra=add_widget)):
    pass
