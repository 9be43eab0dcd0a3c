"""README's code map ("## The code") is true: every file and folder it names exists, and it names every module."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME_COLUMN = re.compile(r"^    ( *)(\S.*?)(?: {2,}|$)")


def code_map() -> list[str]:
    """The indented block that follows '## The code' and its first paragraph."""
    lines = (ROOT / "README.md").read_text().split("## The code", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("    "))
    block = []
    for line in lines[start:]:
        if line and not line.startswith("    "):
            break
        block.append(line)
    return block


def named_paths() -> list[str]:
    """Every path in the map's first column, with the folders above it: `pages/live.py, photo.py` under
    webapp/ gives webapp/pages/live.py and webapp/pages/photo.py."""
    folders: dict[int, str] = {}
    paths = []
    for line in code_map():
        found = NAME_COLUMN.match(line)
        if not found or len(found.group(1)) % 2 or line[4:30].strip() == "":
            continue
        depth = len(found.group(1)) // 2
        parent = folders.get(depth - 1, "") if depth else ""
        names = [name.strip() for name in found.group(2).split(",")]
        prefix = parent + names[0].rsplit("/", 1)[0] + "/" if "/" in names[0].rstrip("/") else parent
        for index, name in enumerate(names):
            path = (parent + name) if index == 0 else prefix + name
            paths.append(path)
        if names[0].endswith("/") and len(names) == 1:
            folders[depth] = parent + names[0]
    return paths


def test_every_path_the_code_map_names_exists():
    paths = named_paths()
    assert len(paths) > 20, paths  # the parse found the map
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert missing == []


def test_the_code_map_names_every_module():
    text = "\n".join(code_map())
    named = set(named_paths())
    modules = [p for folder in ("emotion/live", "emotion/classroom", "emotion/training", "webapp", "webapp/pages")
               for p in sorted((ROOT / folder).glob("*.py")) if p.name != "__init__.py"]
    modules += sorted((ROOT / "static/ondevice").glob("*.js"))
    unnamed = [str(p.relative_to(ROOT)) for p in modules
               if str(p.relative_to(ROOT)) not in named and not re.search(rf"\b{re.escape(p.name)}\b", text)]
    core = [p for folder in ("emotion", "emotion/detection") for p in sorted((ROOT / folder).glob("*.py"))
            if p.name != "__init__.py"]  # named without .py, in the core's line
    core += [p for p in sorted((ROOT / "emotion").iterdir()) if p.is_dir() and (p / "__init__.py").exists()]
    unnamed += [str(p.relative_to(ROOT)) for p in core if not re.search(rf"\b{re.escape(p.stem)}\b", text)]
    assert unnamed == []
