from prefect import flow


@flow
def google_args(x: int, y: str = "a"):
    """Summary line.

    Longer description
    over two lines.

    Args:
        x: the x value
        y (str): required typed argument y
            with second line

    Returns:
        nothing
    """


@flow
def arguments_section(a, b):
    """Summary.

    Arguments:
        a: first
        b: second
    """


@flow
def parameters_section(a: int = 1):
    """
    Parameters:
        a: the a
    """


@flow
def one_line():
    """Just one line."""


@flow
def indented_first_line():
    """   Leading spaces on first line.
        indented more
    back
    """


@flow
def blank_lines():
    """


    Blank lines around.


    """


@flow
def single_quote_doc():
    'Single quoted docstring.'


@flow
def raw_doc():
    r"""Raw \n docstring."""


@flow
def escapes_doc():
    """Escapes: \t tab and \\ backslash and \x41."""


@flow
def tab_doc():
	"""Tab indented.

	Args:
		a: tabbed arg
	"""


@flow
def unicode_doc(name: str = "x"):
    """Ünïcode dócstring ✓.

    Args:
        name: nämé
    """


@flow
def not_a_docstring(a: int = 1):
    x = 1
    """This is not the docstring."""


@flow
def fstring_not_doc():
    f"""f-strings are not docstrings"""


@flow
def doc_with_unknown_arg(a: int = 1):
    """Doc.

    Args:
        a: known
        zz: unknown parameter
    """


@flow
def args_multi_paragraph(a: int = 1, b: int = 2):
    """Doc.

    Args:
        a: first line

            second paragraph
        b: bee
    """


@flow
def args_star_names(*args, **kwargs):
    """Doc.

    Args:
        *args: positional things
        **kwargs: keyword things
    """


@flow
def concatenated_doc():
    "Implicitly " "concatenated."


@flow
def bytes_doc():
    b"""bytes are not docstrings"""


@flow
def doc_then_code(a: int = 1):
    """Doc first.

    Args:
        a (int, optional): described. Defaults to 1.
    """
    return a


@flow
def args_no_colon(a: int = 1):
    """Doc.

    Args:
        a the a without colon
    """


@flow
def trailing_spaces_doc():
    """Line with trailing spaces.   
    
    Second.   
    """
