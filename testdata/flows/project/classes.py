from prefect import flow


class Pipelines:
    @flow(name="method-flow")
    def run(self, n: int = 1, label: str = "x"):
        """Method flow.

        Args:
            n: how many
        """

    @staticmethod
    @flow
    def static_flow(a: int = 2):
        pass

    @classmethod
    @flow
    def class_flow(cls, b: str = "b"):
        pass

    class Inner:
        @flow
        def inner_flow(self, z: float = 1.5):
            pass


def outer():
    @flow(name="nested-in-function")
    def nested_flow(q: int = 0):
        pass

    return nested_flow


@flow
def top_level_after_class(k: int = 3):
    pass
