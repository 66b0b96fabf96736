from prefect import flow

from .models import Color, Level
from . import models


@flow
def rel_flow(c: Color = Color.GREEN, l: models.Level = Level.HIGH, a: "models.Address" = None):
    """Relative imports."""
