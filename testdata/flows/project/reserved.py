from prefect import flow


@flow
def reserved_names(json: int = 1, schema: str = "s", copy: bool = False, dict: dict = {}, fields: list = []):
    pass


@flow(validate_parameters=False)
def model_config_unvalidated(model_config: dict = {}, x: int = 1):
    pass
