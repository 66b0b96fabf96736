from prefect import flow


@flow
def model_config_param(model_config: dict = {}):
    pass
