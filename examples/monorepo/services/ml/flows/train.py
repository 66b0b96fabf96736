from prefect import flow


@flow
def train(epochs: int = 10, learning_rate: float = 0.001):
    """Retrain the demand model."""
    return epochs * learning_rate
