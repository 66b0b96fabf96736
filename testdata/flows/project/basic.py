"""Basic builtins, defaults and required parameters."""
from prefect import flow


@flow
def no_params():
    pass


@flow()
def empty_call():
    return 1


@flow
def hello(name: str = "Marvin"):
    print(name)


@flow
def required_int(x: int, y: float = 5.0):
    pass


@flow
def all_builtins(a: str, b: int, c: float, d: bool, e: bytes, f: list, g: dict, h: tuple, i: set, j: frozenset):
    pass


@flow
def builtin_defaults(a: str = "s", b: int = 3, c: float = 2.5, d: bool = True, e: bytes = b"raw", f: list = [1, 2], g: dict = {"k": "v"}, h: tuple = (1, "a"), i: set = {3}):
    pass


@flow
def untyped(a, b=1, c="x", d=None, e=True, f=[], g={}):
    pass


@flow
def negative_and_floats(a: int = -1, b: float = -0.5, c: float = 1e3, d: int = 0x1F, e: int = 1_000_000, f: float = 1.0, g: int = +4, h: float = 3.0e-4):
    pass


@flow
def strings(a: str = 'single', b: str = "dou\"ble", c: str = """triple""", d: str = r"raw\n", e: str = "esc\tape\n", f: str = "con" "cat", g: str = "ünï©ødé", h: str = "\u00e9\x41\101\0"):
    pass


@flow
def none_defaults(a: int = None, b: str = None, c=None):
    pass


@flow
def nested_defaults(a: dict = {"a": [1, {"b": None}], "c": (True, False)}, b: list = [[1], [2, 3]], c=((1, 2), (3,))):
    pass


@flow
async def async_flow(n: int = 1):
    """An async flow."""
    return n


@flow
async def async_gen_like(items: list[str]):
    for i in items:
        pass


@flow
def star_args(*args):
    pass


@flow
def star_kwargs(**kwargs):
    pass


@flow
def star_typed(a: int, *args: int, b: str = "x", c: float, **kwargs: str):
    pass


@flow
def positional_only(a: int, b: str = "q", /, c: float = 1.0):
    pass


@flow
def keyword_only(*, a: int, b: bool = False):
    pass


@flow
def all_kinds(p1, p2=2, /, n1=3, *va, k1, k2=5, **kw):
    pass


@flow
def bool_int_consts(a=True, b=False, c=0, d=-0, e=1.5e10, f=2.0):
    pass


@flow
def big_ints(a: int = 12345678901234567890, b: int = -9223372036854775808):
    pass


@flow
def dict_int_keys(a: dict = {1: "one", 2: "two"}, b={None: 1}, c={True: "t"}):
    pass


@flow
def octal_bin(a: int = 0o17, b: int = 0b1010, c: float = .5, d: float = 5., e: int = 0):
    pass


@flow
def empty_collections(a: list = [], b: dict = {}, c: tuple = (), d: set = set()):
    pass
