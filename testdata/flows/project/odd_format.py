# -*- coding: utf-8 -*-
from prefect import flow
import re

PATTERN = re.compile(r"\d+")
x = [i for i in range(3)]
y = {k: v for k, v in {"a": 1}.items()}
if (n := len(x)) > 1:
    pass


def helper(val):
    match val:
        case {"a": 1}:
            return f"{val!r:>{10}}"
        case [1, 2, *rest]:
            return f'{"nested " + f"{val}"}'
        case _:
            return None


match = 3  # soft keyword used as a name
case = "x"


@flow(name="multi" \
      "line")
def continuation(a: int \
                 = 4, b: str = "s"
                 ):
    pass


@flow
def  spaced  (  a  :  int  =  1  ,  b  :  str  =  "x"  ,  )  :
    pass


@flow
def comments_in_sig(
    a: int = 1,  # first
    # between
    b: str = "b",  # second
):  # end
    pass


@flow
def trailing_comma(a: int, b: int = 2,):
    pass


@flow
def ünïcode_flow(ñame: str = "Ω", 变量: int = 1):
    pass


@flow
def fstrings_in_body(a: int = 1):
    s = f"{a:{'>'}{10}} {f'{a}'}"
    t = f"{{literal}} {a!s}"
    u = rf"\d{a}"
    return s, t, u


@flow
def lambda_default(a=lambda x: x, b: int = 2):
    pass


@flow
def semicolons(a: int = 1): pass; x = 1


@flow
def one_liner(a: str = "one"): return a


class Weird:
    pass


@flow
def after_weird(a: int = (1 +
                          2), b: list = [
    1,
    2,
]):
    pass


@flow
def walrus_body(a: int = 0):
    if (b := a + 1) > 0:
        return b


@flow
def expression_defaults(a: int = 1 + 2, b: str = "a" * 2, c: int = 2 ** 3, d: float = 1 / 2, e: list = [1] + [2]):
    pass


@flow
def ellipsis_default(a=..., b: int = 1):
    pass


@flow
def complex_default(a=1j, b: int = 0):
    pass
