# BOM, CRLF and tabs
from prefect import flow


@flow(name="crlf-flow")
def crlf_flow(a: int = 1,
		b: str = "two"):
	"""CRLF docstring.

	Args:
		a: the a
	"""
	return a
