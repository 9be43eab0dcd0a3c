"""Fetch LiteRT.js, the runtime the students' browsers run the models with, into static/litert/.

    python scripts/fetch_litertjs.py            # or: python -m scripts.fetch_litertjs

Downloads the pinned npm packages from the registry, checks each tarball's sha256 against the
constants below, and writes exactly the files the app serves (Streamlit serves static/ at
/app/static/), a LICENSE and a README with every served file's sha256. The served files are
committed: the app needs no npm and no build step, on Heroku or anywhere else. To update,
change the versions and hashes here and run it again.

Only the single-threaded "compat" build is served: it needs neither relaxed SIMD nor threads,
so it runs in every browser and without cross-origin isolation (which Streamlit's pages lack).
The two JavaScript files are changed in two small ways: index.js imports its one dependency
from the file beside it instead of by its npm name (browsers cannot resolve bare names without
an import map), and the source-map comments go (the maps are not served).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "static" / "litert"
APACHE_LICENCE = ROOT / "model" / "detectors" / "LICENSE-mediapipe-apache-2.0"  # the same Apache 2.0 text
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    sha256: str  # of the registry's tarball

    @property
    def url(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


CORE = Package("@litertjs/core", "2.5.3", "a97660833e9e7e1063c95e12016718881240b14f7438728a2f62785e912d30fd")
WASM_UTILS = Package("@litertjs/wasm-utils", "2.5.3", "ce2a1f8379c067be49e59752e5a7f40db6be09f6e497f0f11e59f17b515366a7")

# served file (under static/litert/): its package and its path in the tarball
SERVED: dict[str, tuple[Package, str]] = {
    "index.js": (CORE, "package/dist/index.js"),
    "wasm-utils.js": (WASM_UTILS, "package/dist/index.js"),
    "wasm/litert_wasm_compat_internal.js": (CORE, "package/wasm/litert_wasm_compat_internal.js"),
    "wasm/litert_wasm_compat_internal.wasm": (CORE, "package/wasm/litert_wasm_compat_internal.wasm"),
}
BARE_IMPORT = 'from "@litertjs/wasm-utils";'
LOCAL_IMPORT = 'from "./wasm-utils.js";'


def download(package: Package) -> bytes:
    with urllib.request.urlopen(package.url, timeout=120) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != package.sha256:
        raise SystemExit(f"{package.url}: sha256 {digest}, expected {package.sha256}; not extracting it")
    return data


def member(tarball: bytes, path: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        found = archive.extractfile(path)
        if found is None:
            raise SystemExit(f"{path} is not a file in the tarball")
        return found.read()


def adapt(name: str, data: bytes) -> bytes:
    """The two JavaScript changes the module docstring names; everything else is served as published."""
    if not name.endswith(".js") or name.startswith("wasm/"):
        return data
    text = data.decode()
    if name == "index.js":
        if text.count(BARE_IMPORT) != 1:
            raise SystemExit(f"index.js no longer imports {BARE_IMPORT!r} exactly once; check the new version by hand")
        text = text.replace(BARE_IMPORT, LOCAL_IMPORT)
    lines = [line for line in text.splitlines(keepends=True) if not line.startswith("//# sourceMappingURL=")]
    return "".join(lines).encode()


def licence_text() -> str:
    """Apache 2.0, with a header naming LiteRT.js (the npm tarballs carry no licence file)."""
    apache = APACHE_LICENCE.read_text()
    body = apache[apache.index("                                 Apache License") :]
    header = (
        f"Copyright Google LLC: LiteRT.js ({CORE.name} {CORE.version} and {WASM_UTILS.name} {WASM_UTILS.version}),\n"
        "from litert/js/packages/ of https://github.com/google-ai-edge/LiteRT; both packages declare Apache-2.0.\n\n"
    )
    return header + body


def readme(files: dict[str, bytes]) -> str:
    total = sum(len(data) for data in files.values())
    zipped = sum(len(gzip.compress(data, 9)) for data in files.values())
    rows = "\n".join(f"| {name} | {len(data):,} | {hashlib.sha256(data).hexdigest()} |" for name, data in sorted(files.items()))
    return f"""# LiteRT.js, as the app serves it

Written by `python scripts/fetch_litertjs.py`; do not edit by hand. Google's LiteRT.js runs the
face detector and the emotion model in the students' browsers (static/ondevice/). Streamlit serves
this folder at /app/static/litert/.

| package | version | tarball | tarball sha256 |
|---|---|---|---|
| {CORE.name} | {CORE.version} | {CORE.url} | {CORE.sha256} |
| {WASM_UTILS.name} | {WASM_UTILS.version} | {WASM_UTILS.url} | {WASM_UTILS.sha256} |

Licence: Apache 2.0 (LICENSE; the tarballs declare it in package.json and carry no licence file).

Served: the ES module (index.js), its one dependency (wasm-utils.js, the dist/index.js of
{WASM_UTILS.name}), and the single-threaded compat build of the WebAssembly runtime, which needs
neither threads nor relaxed SIMD, so no cross-origin isolation. index.js imports "./wasm-utils.js"
instead of "{WASM_UTILS.name}", and the source-map comments are removed; nothing else is changed.

| file | bytes | sha256 |
|---|---|---|
{rows}

Total: {total:,} bytes ({total / 2**20:.1f} MiB), {zipped:,} bytes gzipped ({zipped / 2**20:.1f} MiB).
"""


def fetch(out: Path = OUT) -> dict[str, bytes]:
    tarballs = {package: download(package) for package in (CORE, WASM_UTILS)}
    files = {name: adapt(name, member(tarballs[package], path)) for name, (package, path) in SERVED.items()}
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    (out / "LICENSE").write_text(licence_text())
    (out / "README.md").write_text(readme(files))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/fetch_litertjs.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default: {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    files = fetch(args.out)
    total = sum(len(data) for data in files.values())
    print(f"wrote {len(files)} files, {total / 2**20:.1f} MiB, to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
