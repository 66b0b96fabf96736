from prefect import flow


@flow
def mixed_tabs(a: int = 1):
	"""Tab docstring \u00e9 and \
    continued."""
	if a:
	    return a
	return 0
