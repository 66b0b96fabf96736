#!/usr/bin/env python3
"""Regenerates conformance.json from the real Prefect templating functions.

Run it with the test environment's venv (scripts/testenv.sh makes it):

    ~/.cache/prefectctl-testenv/venv-prefect-3.9.1/bin/python \
        internal/template/testdata/gen_conformance.py

It calls prefect.utilities.templating.{find_placeholders, apply_values,
resolve_variables, resolve_block_document_references} and
prefect.utilities.collections.get_from_dict on the cases below and writes
inputs and outputs side by side. The Go test TestConformance replays every
case against internal/template, so a Prefect upgrade that changes behaviour
shows up as a diff of this file and a failing test.

Values that JSON cannot carry are tagged: {"__notset__": true} is Prefect's
NotSet, {"__date__": "2024-05-06"} a datetime.date and
{"__datetime__": "<isoformat>"} a datetime.datetime.
"""

import asyncio
import collections
import copy
import datetime as dt
import json
import logging
import os
import sys
from types import SimpleNamespace

import prefect
import prefect.exceptions
from prefect.utilities.annotations import NotSet
from prefect.utilities.collections import get_from_dict
from prefect.utilities.templating import (
    apply_values,
    find_placeholders,
    resolve_block_document_references,
    resolve_variables,
)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conformance.json")

UTC = dt.timezone.utc
D = dt.date(2031, 2, 3)
DT = dt.datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)
DT_US_OFF = dt.datetime(2031, 2, 3, 4, 5, 6, 7, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
DT_NAIVE = dt.datetime(2031, 2, 3, 4, 5)


def tag(v):
    if v is NotSet:
        return {"__notset__": True}
    if isinstance(v, dt.datetime):
        return {"__datetime__": v.isoformat()}
    if isinstance(v, dt.date):
        return {"__date__": v.isoformat()}
    if isinstance(v, dict):
        return {k: tag(x) for k, x in v.items()}
    if isinstance(v, list):
        return [tag(x) for x in v]
    return v


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


class environ:
    """Replaces the whole process environment for the duration of a case."""

    def __init__(self, env):
        self.env = env or {}

    def __enter__(self):
        self.saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.env)

    def __exit__(self, *exc):
        os.environ.clear()
        os.environ.update(self.saved)


def err(e):
    return {"error_type": type(e).__name__, "error": str(e)}


# --------------------------------------------------------------------------
# find_placeholders

FIND = [
    ("empty", ""),
    ("plain text", "no placeholders here"),
    ("one", "Hi {{who}}!"),
    ("duplicates collapse", "{{x}}{{x}} and {{ x }}"),
    ("spacing variants", "a {{    alpha }} b {{beta    }} c {{\tgamma\n}}"),
    ("unicode whitespace", "{{\u3000wide\u3000}} {{\xa0nb\xa0}} {{\x1csep\x1f}} {{\u2028ls\u2029}} {{\x0bvt\x0c}}"),
    ("zero width space is not whitespace", "{{\u200bzw }}"),
    ("unicode names", "{{ café }} {{ 日本 }} {{ x٣ }} {{ Ⅻ }} {{ ²x }}"),
    ("combining mark is not a word char", "{{ cafe\u0301 }}"),
    ("space inside name", "{{ a b }}"),
    ("filters do not match", "{{ x | default('y') }}"),
    ("extra braces", "{{{ a }}} and {{b}}}} and {{{{c}}"),
    ("empty braces", "{{}} {{ }}"),
    ("unclosed", "{{ a } {{ b"),
    ("punctuation in names", "{{ a-b.c[0] }} {{ $ }} {{ $$ }} {{ a$b }} {{ [0] }} {{ - }} {{ ... }}"),
    ("kinds", "{{ prefect.blocks.secret.tok }} {{ prefect.variables.v }} {{ $HOME }} {{ step.out }}"),
    ("prefix needs the dot", "{{ prefect.blocks }} {{ prefect.variablesx }} {{ prefect.blocks. }}"),
    ("malformed block still found", "{{ prefect.blocks.only-type }}"),
    ("dict values not keys", {"{{ key }}": "{{ val }}", "n": {"deep": ["{{ item }}", 3, None, True, 1.5]}}),
    ("scalars", [1, 2.5, True, False, None]),
    ("date is an error", {"a": "{{ x }}", "when": D}),
    ("datetime is an error", [DT]),
]


# Seeded random strings built from literal chunks and placeholder-shaped
# pieces (some broken on purpose), for both find_placeholders and
# apply_values: differential coverage of the regexp, the whole-string rule,
# key paths and substitution.
LITERALS = ["", "x", " ", "{", "}", "$", "-", "/", "\n", "é", "{{", "}}"]
SPACES = ["", "", " ", "  ", "\t", "\u3000", "\x1c", "\xa0", "\u200b"]
NAMES = ["a", "b", "b.0", "b.c[1]", "b.c.-1", "b.c.2", "$a", "$$", "$1", "ctx.x", "1", "٣", "a.b", "",
         "prefect.blocks.x.y", "prefect.variables.v", "é", "\u0301", "-", "[0]", "a b", "a|b", "b.c[-3]"]


def random_strings(n=160, seed=20260):
    import random
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rnd.randint(1, 3)):
            if rnd.random() < 0.3:
                parts.append(rnd.choice(LITERALS))
            else:
                close = "}}" if rnd.random() < 0.9 else "}"
                parts.append("{{" + rnd.choice(SPACES) + rnd.choice(NAMES) + rnd.choice(SPACES) + close)
        out.append("".join(parts))
    return out


RANDOM = random_strings()
RANDOM_VALUES = {"a": "A", "b": {"0": "b-zero", "c": [1, "two"]}, "a.b": "never", "1": "one", "": "empty",
                 "ctx": {"x": 1}, "٣": "three"}


def gen_find():
    out = []
    for i, t in enumerate(RANDOM):
        FIND.append((f"random {i}", t))
    for name, tmpl in FIND:
        case = {"name": name, "template": tag(tmpl)}
        try:
            ps = find_placeholders(tmpl)
            case["result"] = sorted([p.full_match, p.name, p.type.value] for p in ps)
        except Exception as e:  # noqa: BLE001
            case.update(err(e))
        out.append(case)
    return out


# --------------------------------------------------------------------------
# get_from_dict

NESTED = {
    "crew": [{"name": "Ford", "ship": {"name": "Heart"}}, {"name": "Zaphod"}],
    "word": "día",
    "nums": list(range(12)),
    "years": {"0": "zero", "2026": "now", "01": "padded", "": "empty"},
    "nothing": None,
    "flag": True,
    "count": 7,
    "when": D,
}

GET = [
    "crew[0].name", "crew.0.name", "crew[1].name", "crew[-1].name", "crew[-2].ship.name",
    "crew[2]", "crew[-3]", "crew.x", "crew[0][name]", "crew[0].ship.name.0",
    "word.0", "word[1]", "word[-1]", "word.3", "word.x",
    "nums.01", "nums.1_0", "nums.1__0", "nums._1", "nums.1_", "nums.٣", "nums.-0", "nums.+1",
    "nums. 2", "nums.2 ", "nums.99999999999999999999", "nums.-12", "nums.-13", "nums.",
    "years.0", "years.2026", "years.01", "years.1", "years.", "years..x",
    "nothing", "nothing.x", "flag.0", "count.0", "when.year", "missing", "", "crew]0[.name",
]


def gen_get():
    out = []
    for key in GET:
        r = get_from_dict(NESTED, key, NotSet)
        case = {"values": tag(NESTED), "key": key, "found": r is not NotSet}
        if r is not NotSet:
            case["result"] = tag(r)
        out.append(case)
    return out


# --------------------------------------------------------------------------
# apply_values

OUTPUTS = {
    "owner": "Marvin",
    "surname": "Android",
    "years": 37,
    "ratio": 0.5,
    "tiny": 1e-05,
    "huge": 1e16,
    "whole": 2.0,
    "negzero": -0.0,
    "yes": True,
    "nil": None,
    "build-image": {"image": "registry.local/app:1.2", "tag": "1.2"},
    "tags": ["alpha", 2, 3.5, None, True],
    "quoted": {"it's": 'say "hi"', "tab": "a\tb\n", "back": "c:\\d", "uni": "ü→\u200b"},
    "get-branch": {"stdout": "main\n", "stderr": ""},
    "zero-keys": {"0": "zero"},
    "名前": "名",
    "self": "{{ owner }}",
    "empty": "",
    "today": D,
    "stamp": DT,
    "stamp_off": DT_US_OFF,
    "stamp_naive": DT_NAIVE,
}

ENV = {"APP_ENV": "staging", "TAGS": "x,y", "EMPTY": "", "A.B": "dotted"}


def A(name, template, values=OUTPUTS, remove_notset=True, warn=True, skip=None, env=ENV):
    return dict(name=name, template=template, values=values, remove_notset=remove_notset,
                warn=warn, skip=skip, env=env)


APPLY = [
    # §12 case 1 shapes
    A("inline pair and typed int", {"who": "{{owner}} {{surname}}", "age": "{{years}}"}),
    A("missing whole-string key dropped", {"surname": "{{ nope }}", "age": "{{ years }}"}),
    A("remove_notset false keeps originals", {"who": "Mr {{ nope }}", "age": "{{ years }}", "x": "{{ nope }}"},
      remove_notset=False),
    # §12 case 2
    A("list index in inline key path", "Owner: {{ crew[0].name }}!", values={"crew": [{"name": "Trillian"}]}),
    A("whole-string dict keeps type", {"img": "{{ build-image }}"}),
    A("whole-string list keeps type", {"t": "{{ tags }}"}),
    A("whole-string list item path", {"t": "{{ tags[0] }}", "u": "{{ tags.-1 }}", "v": "{{ tags[9] }}"}),
    A("whole-string scalar types", ["{{ ratio }}", "{{ yes }}", "{{ nil }}", "{{ tiny }}", "{{ today }}", "{{ stamp }}"]),
    A("string index", "{{ get-branch.stdout[0] }}"),
    A("string index negative and unicode", {"a": "{{ 名前[-1] }}", "b": "x{{ quoted.uni[1] }}x"}),
    A("dict key 0 reachable", {"z": "{{ zero-keys.0 }}", "z2": "{{ zero-keys[0] }}"}),
    # str() formatting
    A("inline str of scalars", "{{ years }}|{{ ratio }}|{{ tiny }}|{{ huge }}|{{ whole }}|{{ negzero }}|{{ yes }}|{{ nil }}"),
    A("inline str of containers", "img={{ build-image }} tags={{ tags }}"),
    A("inline str with quotes and escapes", "q={{ quoted }}"),
    A("inline str of dates", "{{ today }} / {{ stamp }} / {{ stamp_off }} / {{ stamp_naive }}"),
    A("surrounding spaces make it inline", {"a": " {{ years }}", "b": "{{ years }} ", "c": "{{ build-image }}\n"}),
    A("same placeholder twice is inline", "{{ years }}{{ years }}"),
    A("two spellings of one name", "{{years}}-{{ years }}"),
    A("inline miss becomes empty", "a{{ nope }}b{{ owner }}c"),
    A("inline miss stays with remove_notset false", "a{{ nope }}b{{ owner }}c", remove_notset=False),
    A("single pass: inserted text is not re-scanned", "{{ self }} / {{ owner }}"),
    A("substitution can form a new placeholder", "{{ {{ empty }} owner }}"),
    A("unicode name", "{{ 名前 }}-{{名前}}"),
    # env placeholders (§12 case 3)
    A("env whole string is always a string", {"e": "{{ $APP_ENV }}", "t": "{{ $TAGS }}"}),
    A("env missing whole string becomes empty", {"e": "{{ $NOT_THERE }}"}),
    A("env missing kept with remove_notset false", {"e": "{{ $NOT_THERE }}", "l": ["{{ $NOT_THERE }}"]},
      remove_notset=False),
    A("env dollars", {"a": "{{ $$ }}", "b": "{{ $$APP_ENV }}", "c": "{{ $ }}", "d": "{{ $EMPTY }}|"}),
    A("env name with a dot", "{{ $A.B }}"),
    A("env reads the environment not values", "{{ $owner }}", values={"owner": "x", "$owner": "y"}),
    A("json text with env placeholders",
      '{"greeting": "Hi {{who}}!", "message": {"text": "{{$$}}"}}', values={"who": "Ada"}),
    A("whitespace variants", "{{    owner }}/{{owner    }}/{{\towner\n}}/{{\u3000owner\u3000}}"),
    # the env pass: values = os.environ
    A("env pass resolves standard names from the environment",
      {"v": "{{ APP_ENV }}", "c": "{{ TAGS.0 }}", "e": "{{ $APP_ENV }}", "m": "{{ step.out }}",
       "l": ["{{ step.out }}", "{{ APP_ENV }}"], "i": "x-{{ step.out }}"},
      values="$environ", remove_notset=False, warn=False),
    # lists and NotSet
    A("list items dropped with remove_notset", ["{{ nope }}", "{{ owner }}", "x{{ nope }}"]),
    A("list items kept without remove_notset (3.9: #15096 fixed)", ["{{ nope }}", "{{ owner }}"],
      remove_notset=False),
    A("NotSet in template dropped", {"a": NotSet, "b": [NotSet, 1], "c": "{{ years }}"}),
    A("NotSet in template kept", [{"top": {"a": NotSet, "b": "{{ years }}"}}, NotSet], remove_notset=False),
    A("top-level whole-string miss is NotSet", "{{ nope }}"),
    A("top-level whole-string miss is NotSet without remove", "{{ nope }}", remove_notset=False),
    A("pass-through scalars", [1, 2.5, True, None, "", "plain"]),
    A("keys are never templated", {"{{ owner }}": "{{ owner }}"}),
    A("null value kept", {"n": None, "a": "{{ years }}"}),
    # skip_prefixes (§12 case 4)
    A("skip whole", "{{ ctx.flow.name }}", values={}, skip=["ctx."]),
    A("skip embedded", "job-{{ ctx.flow.name }}/{{ ctx.flow_run.name }}", values={}, skip=["ctx."]),
    A("skip mixed", "{{ ctx.flow.name }}-{{ owner }}-{{ nope }}", skip=["ctx."]),
    A("skip nested", {"work_pool": {"job_variables": {"name": "{{ ctx.flow.name }}",
                                                      "image": "{{ build-image.image }}"}},
                      "tags": ["{{ ctx.flow_run.name }}", "{{ build-image.tag }}", "{{ nope }}"]},
      skip=["ctx."]),
    A("skip leaves a lone remaining placeholder inline", "{{ ctx.a }}{{ owner }}", skip=["ctx."]),
    A("skip with several prefixes", ["{{ ctx.a }}", "{{ event.b }}", "{{ owner }}"], skip=["ctx.", "event."]),
    A("skip empty prefix skips everything", {"a": "{{ owner }}", "b": "{{ nope }}"}, skip=[""]),
    A("skip empty list skips nothing", {"a": "{{ owner }}", "b": "{{ nope }}"}, skip=[]),
    A("skip prefix matches the name not the text", "{{ ctx.a }}", values={"ctx": {"a": 1}}, skip=["{{ ctx"]),
    # other placeholder kinds are left alone
    A("block placeholder untouched", "Hello {{prefect.blocks.doc.name}}!"),
    A("block placeholder whole untouched", {"s": "{{ prefect.blocks.secret.tok }}", "v": "{{ prefect.variables.v }}"}),
    A("mixed kinds inline", "{{ owner }}:{{ prefect.variables.v }}:{{ prefect.blocks.a.b }}:{{ $APP_ENV }}"),
    # warnings
    A("warning names: whole vs inline", {"a": "{{ nope }}", "b": "x{{ nope2 }}", "c": "{{ $NOPE_ENV }}",
                                         "d": "{{ 名前x }}"}),
    A("warnings also without remove", {"a": "{{ nope }}", "b": "x{{ nope2 }}"}, remove_notset=False),
    A("no warnings for skipped", {"a": "{{ ctx.flow.name }}", "b": "{{ nope }}"}, skip=["ctx."]),
    # errors
    A("date in template is an error", {"a": "{{ owner }}", "when": D}),
    A("datetime in a list is an error", ["x", [DT]]),
]


def gen_apply():
    out = []
    for i, t in enumerate(RANDOM):
        APPLY.append(A(f"random {i}", t, values=RANDOM_VALUES, remove_notset=i % 2 == 0, skip=["ctx."] if i % 3 == 0 else None,
                       env={"a": "env-a", "1": "env-one"}))
    logger = logging.getLogger("prefect.utilities.templating")
    for c in APPLY:
        cap = Capture()
        logger.addHandler(cap)
        case = {"name": c["name"], "template": tag(c["template"]),
                "values": c["values"] if c["values"] == "$environ" else tag(c["values"]),
                "env": c["env"], "remove_notset": c["remove_notset"], "warn": c["warn"],
                "skip_prefixes": c["skip"]}
        try:
            with environ(c["env"]):
                values = os.environ if c["values"] == "$environ" else c["values"]
                before = copy.deepcopy(c["template"])
                r = apply_values(c["template"], values, remove_notset=c["remove_notset"],
                                 warn_on_notset=c["warn"], skip_prefixes=c["skip"])
                assert c["template"] == before, c["name"]
            case["result"] = tag(r)
        except Exception as e:  # noqa: BLE001
            case.update(err(e))
        finally:
            logger.removeHandler(cap)
        case["warnings"] = sorted(cap.messages)
        out.append(case)
    return out


# --------------------------------------------------------------------------
# resolve_variables and resolve_block_document_references, with a fake client

class FakeClient:
    def __init__(self, variables=None, blocks=None, ids=None):
        self.variables = variables or {}
        self.blocks = blocks or {}
        self.ids = ids or {}
        self.calls = collections.Counter()

    async def read_variable_by_name(self, name):
        self.calls["variable:" + name] += 1
        if name in self.variables:
            return SimpleNamespace(value=copy.deepcopy(self.variables[name]))
        return None

    async def read_block_document_by_name(self, name, block_type_slug):
        self.calls[f"block:{block_type_slug}/{name}"] += 1
        if (block_type_slug, name) in self.blocks:
            return SimpleNamespace(data=copy.deepcopy(self.blocks[(block_type_slug, name)]))
        raise prefect.exceptions.ObjectNotFound(http_exc=Exception("404 Not Found"))

    async def read_block_document(self, block_document_id):
        self.calls[f"id:{block_document_id}"] += 1
        if block_document_id in self.ids:
            return SimpleNamespace(data=copy.deepcopy(self.ids[block_document_id]))
        raise prefect.exceptions.ObjectNotFound(http_exc=Exception("404 Not Found"))


VARIABLES = {
    "cfg": {"region": "eu", "size": 3},
    "greeting": "hello",
    "count": 4,
    "ratio": 0.25,
    "on": False,
    "nothing": None,
    "items": ["a", 1],
    "cfg.region": "dotted-name",
    "x": "X",
}

VARS = [
    ("whole keeps JSON type", {"d": "{{ prefect.variables.cfg }}", "s": "{{ prefect.variables.greeting }}",
                               "i": "{{ prefect.variables.count }}", "f": "{{ prefect.variables.ratio }}",
                               "b": "{{ prefect.variables.on }}", "n": "{{ prefect.variables.nothing }}",
                               "l": "{{ prefect.variables.items }}"}),
    ("inline uses str()", "pre-{{ prefect.variables.cfg }}-{{ prefect.variables.on }}-{{ prefect.variables.nothing }}"),
    ("missing whole becomes empty string", {"gone": "{{ prefect.variables.gone }}"}),
    ("missing inline becomes empty", "a{{ prefect.variables.gone }}b"),
    ("two missing", "{{ prefect.variables.gone1 }} - {{ prefect.variables.gone2 }}"),
    ("no key path: dots are part of the name", ["{{ prefect.variables.cfg.region }}", "{{ prefect.variables.cfg.size }}"]),
    ("each name read once", {"a": "{{ prefect.variables.greeting }}", "b": ["{{ prefect.variables.greeting }}",
                                                                            "x{{ prefect.variables.greeting }}"],
                             "c": "{{ prefect.variables.gone }}", "d": "{{prefect.variables.gone}}"}),
    ("other kinds untouched", {"s": "{{ step.out }}", "b": "{{ prefect.blocks.a.b }}", "e": "{{ $HOME }}",
                               "m": "{{ step.out }}/{{ prefect.variables.greeting }}/{{ $HOME }}"}),
    ("prefix removed everywhere in the name", "{{ prefect.variables.prefect.variables.x }}"),
    ("spaces around make it inline", " {{ prefect.variables.count }}"),
    ("non-strings pass through, dates too", [1, 2.5, None, True, D, "plain"]),
]


def gen_variables():
    out = []
    for name, tmpl in VARS:
        client = FakeClient(variables=VARIABLES)
        case = {"name": name, "variables": tag(VARIABLES), "template": tag(tmpl)}
        try:
            r = asyncio.run(resolve_variables(tmpl, client=client))
            case["result"] = tag(r)
        except Exception as e:  # noqa: BLE001
            case.update(err(e))
        case["calls"] = dict(sorted(client.calls.items()))
        out.append(case)
    return out


BLOCKS = {
    ("arbitrary", "doc"): {"a": 1, "b": "hello", "nested": {"k": ["x", {"deep": True}]}, "n": None},
    ("secret", "registry"): {"value": "registry.example.com"},
    ("secret", "structured"): {"value": {"user": "u", "values": {"x": 1}, "list": [10, 20]}},
    ("json", "cfg"): {"value": {"value": "inner"}},
    ("string", "word"): {"value": "abc"},
    ("webhook", "hook"): {"url": "https://hooks.example.com/x", "method": "POST"},
    ("creds", "aws"): {"access_key": "AK", "secret": "SK"},
}
IDS = {
    "0f0f0f0f-0000-4000-8000-000000000001": {"nested": {"value": "by-id"}},
    "0f0f0f0f-0000-4000-8000-000000000002": {"value": "solo"},
}
ID1 = "0f0f0f0f-0000-4000-8000-000000000001"
ID2 = "0f0f0f0f-0000-4000-8000-000000000002"
MISSING_ID = "0f0f0f0f-0000-4000-8000-0000000000ff"

BLK = [
    ("whole document", {"k": "{{ prefect.blocks.arbitrary.doc }}"}),
    ("key path", {"b": "{{ prefect.blocks.arbitrary.doc.b }}", "deep": "{{ prefect.blocks.arbitrary.doc.nested.k[1].deep }}",
                  "n": "{{ prefect.blocks.arbitrary.doc.n }}", "l": "{{ prefect.blocks.arbitrary.doc.nested.k }}"}),
    ("inline key path", "prefix-{{ prefect.blocks.arbitrary.doc.b }}-{{ prefect.blocks.arbitrary.doc.a }}-suffix"),
    ("inline None and bool", "{{ prefect.blocks.arbitrary.doc.n }}/{{ prefect.blocks.arbitrary.doc.nested.k[1].deep }}"),
    ("secret unwrapped whole", {"r": "{{ prefect.blocks.secret.registry }}"}),
    ("secret value path inline", "{{ prefect.blocks.secret.registry.value }}/my-image"),
    ("secret unwrapped inline", "{{ prefect.blocks.secret.registry }}/my-image"),
    ("value path keeps the wrapper", {"v": "{{ prefect.blocks.secret.structured.value }}",
                                      "u": "{{ prefect.blocks.secret.structured.value.user }}",
                                      "l": "{{ prefect.blocks.secret.structured.value.list[1] }}",
                                      "w": "{{ prefect.blocks.secret.structured }}"}),
    ("a key starting with value looks inside (3.9)", {"x": "{{ prefect.blocks.secret.structured.values.x }}",
                                                      "u": "{{ prefect.blocks.secret.structured.user }}"}),
    ("nested value key", {"a": "{{ prefect.blocks.json.cfg }}", "b": "{{ prefect.blocks.json.cfg.value }}"}),
    ("string block indexed", "{{ prefect.blocks.string.word.0 }}{{ prefect.blocks.string.word.-1 }}"),
    ("brackets belong to the document name", "{{ prefect.blocks.string.word[-1] }}"),
    ("attribute of a credential block", {"url": "{{ prefect.blocks.webhook.hook.url }}"}),
    ("standard placeholders left for later", {"k": "{{ standard_placeholder }}/{{ prefect.blocks.arbitrary.doc.b }}",
                                              "s": "{{ standard_placeholder }}", "v": "{{ prefect.variables.x }}"}),
    ("each document read once", {"full": "{{ prefect.blocks.arbitrary.doc }}",
                                 "inline": "p-{{ prefect.blocks.arbitrary.doc.b }}-s",
                                 "nested": {"repeat": "{{ prefect.blocks.arbitrary.doc }}"}}),
    ("ref by id", {"key": {"$ref": {"block_document_id": ID1}}}),
    ("ref by id is not unwrapped", [{"$ref": {"block_document_id": ID2}}, {"$ref": {"block_document_id": ID2}}]),
    ("ref without id recurses", {"$ref": {"other": "{{ prefect.blocks.secret.registry }}"}, "x": 1}),
    ("ref with empty id recurses", {"$ref": {"block_document_id": ""}, "y": "{{ prefect.blocks.string.word }}"}),
    ("ref siblings are replaced too", {"$ref": {"block_document_id": ID2}, "ignored": "{{ prefect.blocks.nope.nope }}"}),
    ("inline non-scalar is an error", {"k": "{{ prefect.blocks.arbitrary.doc }} extra text"}),
    ("inline list is an error", "x {{ prefect.blocks.arbitrary.doc.nested.k }}"),
    ("malformed placeholder", {"k": "{{ prefect.blocks.only-type }}"}),
    ("malformed inline", "a {{ prefect.blocks.x }} b"),
    ("missing block by name", {"k": "{{ prefect.blocks.aws-credentials.nonexistent-block }}"}),
    ("missing block by id", {"k": {"$ref": {"block_document_id": MISSING_ID}}}),
    ("key path miss", {"k": "{{ prefect.blocks.arbitrary.doc.nope }}"}),
    ("key path miss inline shows the template", "it's {{ prefect.blocks.arbitrary.doc.b.x }}"),
    ("empty key path", "{{ prefect.blocks.arbitrary.doc. }}"),
    ("ref that is a string", {"schema": {"$ref": "#/definitions/Foo"}}),
    ("ref that is null", {"$ref": None}),
    ("non-strings pass through", [1, None, True, D, 2.5]),
]


def gen_blocks():
    out = []
    for name, tmpl in BLK:
        client = FakeClient(blocks=BLOCKS, ids=IDS)
        case = {"name": name, "template": tag(tmpl)}
        try:
            r = asyncio.run(resolve_block_document_references(tmpl, client=client))
            case["result"] = tag(r)
        except Exception as e:  # noqa: BLE001
            case.update(err(e))
        case["calls"] = dict(sorted(client.calls.items()))
        out.append(case)
    return out


def main():
    blocks = [{"slug": s, "name": n, "data": tag(d)} for (s, n), d in BLOCKS.items()]
    doc = {
        "generated_by": "internal/template/testdata/gen_conformance.py",
        "prefect_version": prefect.__version__,
        "python_version": sys.version.split()[0],
        "find": gen_find(),
        "get": gen_get(),
        "apply": gen_apply(),
        "variables": gen_variables(),
        "blocks": {"documents": blocks, "ids": {k: tag(v) for k, v in IDS.items()}, "cases": gen_blocks()},
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    n = sum(len(doc[k]) for k in ("find", "get", "apply", "variables")) + len(doc["blocks"]["cases"])
    print(f"wrote {n} cases from Prefect {prefect.__version__} to {OUT}")


if __name__ == "__main__":
    main()
