"""The browser contract: emotion/contract.py's TypedDicts and static/ondevice/contract.js's typedefs say the same."""

from __future__ import annotations

import re
import types
import typing

import emotion.contract
from emotion.ondevice import STATIC_DIR
from tests.support.files import ROOT

CONTRACT_JS = STATIC_DIR / "ondevice" / "contract.js"
SCALARS = {int: "number", float: "number", str: "string", bool: "boolean", type(None): "null"}


def js_type(annotation: object) -> str:
    """A Python annotation as contract.js writes it in JSDoc."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in SCALARS:
        return SCALARS[annotation]  # type: ignore[index]
    if typing.is_typeddict(annotation):
        return annotation.__name__  # type: ignore[attr-defined]
    if origin is list:
        inner = js_type(args[0])
        return f"({inner})[]" if " " in inner else f"{inner}[]"
    if origin is dict:
        return f"Object<{js_type(args[0])}, {js_type(args[1])}>"
    if origin is typing.Literal:
        return " | ".join(f"'{value}'" for value in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(js_type(arg) for arg in args)
    raise TypeError(f"no JSDoc type for {annotation!r}")


def python_shapes() -> dict[str, dict[str, str]]:
    shapes = {}
    for name, value in vars(emotion.contract).items():
        if typing.is_typeddict(value) and value.__module__ == emotion.contract.__name__:
            hints = typing.get_type_hints(value)
            shapes[name] = {key: js_type(hint) for key, hint in hints.items()}
    return shapes


def js_shapes(source: str) -> dict[str, dict[str, str]]:
    shapes: dict[str, dict[str, str]] = {}
    for block in re.findall(r"/\*\*(.*?)\*/", source, re.S):
        typedef = re.search(r"@typedef \{Object\} (\w+)", block)
        if typedef:
            properties = re.findall(r"@property \{([^}]*)\} (\w+)", block)
            shapes[typedef.group(1)] = {key: " ".join(kind.split()) for kind, key in properties}
    return shapes


def test_both_sides_declare_the_same_shapes_with_the_same_keys_and_types():
    python, js = python_shapes(), js_shapes(CONTRACT_JS.read_text())
    assert len(python) >= 10  # every shape found, not an empty comparison
    assert python == js


def test_a_key_renamed_on_one_side_is_caught():
    source = CONTRACT_JS.read_text().replace("@property {number} sampleEveryMs", "@property {number} sampleMs")
    assert js_shapes(source)["CameraData"] != python_shapes()["CameraData"]


def test_every_browser_module_is_type_checked():
    """`// @ts-check` on every module of static/ondevice/, as .ci/run's TypeScript check expects."""
    modules = sorted((STATIC_DIR / "ondevice").glob("*.js"))
    assert len(modules) >= 9
    assert [m.name for m in modules if not m.read_text().startswith("// @ts-check\n")] == []


def test_the_folders_table_names_each_module_and_the_twin_its_header_names():
    folder = STATIC_DIR / "ondevice"
    table = dict(re.findall(r"^\| (\w+\.js) \| [^|]+ \| ([\w/.]+) \|$", (folder / "README.md").read_text(), re.M))
    headers = {}
    for module in sorted(folder.glob("*.js")):
        named = re.search(r"Python twin: ([\w/]+\.py)", module.read_text()[:800])
        headers[module.name] = named.group(1) if named else None
    assert table == headers
    assert all((ROOT / twin).is_file() for twin in table.values())
