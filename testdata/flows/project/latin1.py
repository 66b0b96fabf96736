# -*- coding: latin-1 -*-
from prefect import flow


@flow
def latin1_flow(name: str = "café"):
    """Café doc."""
