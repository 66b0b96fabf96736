from prefect import flow


@flow
def code_fence(a: int = 1):
    """Doc.

    ```
    Args:
        a: inside a fence
    ```

    Args:
        a: outside
    """


@flow
def typed_colon(a: dict = {}, b: int = 0):
    """Doc.

    Args:
        a (Dict[str, int]): mapping: with colon
        b (int, optional): bee
    """


@flow
def numpy_style(a: int = 1):
    """Doc.

    Parameters
    ----------
    a : int
        The a.
    """


@flow
def note_before_args(a: int = 1):
    """Doc.

    Note:
        Something to note.

    Args:
        a: the a
    """


@flow
def args_not_separated(a: int = 1):
    """Doc.
    Args:
        a: the a
    """


@flow
def keyword_args_section(a: int = 1, **kw):
    """Doc.

    Args:
        a: the a

    Keyword Args:
        x: not a parameter section
    """


@flow
def args_confusing_indent(a: int = 1, b: int = 2):
    """Doc.

    Args:
        a: first
           continued with three
        b: second
    """


@flow
def empty_docstring():
    """"""


@flow
def whitespace_docstring():
    """   """
