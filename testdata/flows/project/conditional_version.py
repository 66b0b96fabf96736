"""A value chosen by a Python-version condition that depends on the deploying Python."""
import sys

from prefect import flow

if sys.version_info < (3, 11):  # never true where Prefect 3.9.1 runs
    LIMIT = 1
elif sys.version_info >= (3, 12):
    LIMIT = 2
else:
    LIMIT = 3


@flow
def version_flow(limit: int = LIMIT):
    pass
