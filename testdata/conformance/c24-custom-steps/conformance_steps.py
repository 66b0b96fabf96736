"""A custom deployment step, imported by its dotted name."""


def emit(prefix: str = "", **kwargs):
    return {
        "input": prefix + "foo",
        "output1": 1,
        "output2": ["b", 2, 3],
        "output3": "This one is actually a string",
        "nested": {"k": [True, None, 2.5]},
    }
