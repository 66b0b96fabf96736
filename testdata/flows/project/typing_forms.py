"""typing forms."""
import typing
import typing as t
from typing import Any, Dict, FrozenSet, List, Literal, Optional, Set, Tuple, Union, Annotated, Sequence, Mapping, Iterable

from prefect import flow


@flow
def optional_forms(a: Optional[int], b: Optional[str] = None, c: int | None = None, d: None | str = "x", e: Union[int, None] = 3):
    pass


@flow
def union_forms(a: Union[int, str], b: Union[int, str, float] = 1, c: int | str | None = None, d: Union[int] = 2):
    pass


@flow
def list_forms(a: List[int], b: list[str] = ["x"], c: List = [], d: list[list[int]] = [[1]], e: List[Optional[int]] = [None]):
    pass


@flow
def dict_forms(a: Dict[str, Any], b: dict[str, int] = {"a": 1}, c: Dict = {}, d: dict[str, list[int]] = {}, e: Dict[int, str] = {1: "a"}):
    pass


@flow
def set_forms(a: Set[int], b: set[str] = set(), c: FrozenSet[int] = frozenset(), d: frozenset[str] = frozenset({"a"})):
    pass


@flow
def tuple_forms(a: Tuple[int, str], b: tuple[int, ...] = (1, 2), c: Tuple = (), d: tuple[str, int, float] = ("a", 1, 2.0), e: Tuple[()] = ()):
    pass


@flow
def literal_forms(a: Literal["a", "b"], b: Literal["only"] = "only", c: Literal[1, 2, 3] = 1, d: Literal[True] = True, e: Literal["x", 1] = 1, f: Optional[Literal["p", "q"]] = None):
    pass


@flow
def annotated_forms(a: Annotated[int, "meta"], b: Annotated[str, "doc"] = "v", c: Annotated[Optional[int], 1, 2] = None):
    pass


@flow
def any_forms(a: Any, b: typing.Any = None, c: t.Any = 1):
    pass


@flow
def qualified_typing(a: typing.Optional[int] = None, b: t.List[str] = [], c: typing.Dict[str, float] = {}, d: typing.Union[int, float] = 1.0):
    pass


@flow
def abc_forms(a: Sequence[int] = (), b: Mapping[str, int] = {}, c: Iterable[str] = ()):
    pass


@flow
def string_annotations(a: "int", b: "Optional[str]" = None, c: "list[int]" = [], d: 'Dict[str, "int"]' = {}):
    pass


@flow
def nested_generics(a: Dict[str, List[Tuple[int, str]]] = {}, b: Optional[Union[int, List[str]]] = None, c: list[dict[str, Optional[float]]] = []):
    pass


@flow
def pep604_lists(a: list[int | str] = [], b: dict[str, int | None] = {}, c: tuple[int | None, str] = (None, "s")):
    pass


@flow
def callable_param(fn: typing.Callable = print, g: t.Callable[[int], int] = None):
    pass


@flow
def type_param(cls_: type = int, o: object = None):
    pass


@flow
def none_annotation(a: None = None):
    pass
