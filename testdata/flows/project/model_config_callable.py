"""model_config json_schema_extra as a function runs only in Python."""
from pydantic import BaseModel, ConfigDict

from prefect import flow


def tweak(schema):
    schema["x-tweaked"] = True


class Tweaked(BaseModel):
    model_config = ConfigDict(json_schema_extra=tweak)
    a: int = 1


@flow
def config_callable(t: Tweaked = None):
    pass
