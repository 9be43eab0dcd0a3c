"""What a deploy weighs: the wheels requirements.txt installs, compressed and on disk, plus the app's files.

    python bench/install_size.py [--with-tensorflow]

The compressed total is a proxy for the Heroku slug (slugs are compressed; soft limit 300 MB).
--with-tensorflow also weighs tensorflow-cpu, which the earlier apps shipped and this one does not.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", *args], check=True)


def slug_files() -> list[Path]:
    """Tracked files that Heroku puts in the slug: everything but what .slugignore names."""
    ignored = [line.strip() for line in (ROOT / ".slugignore").read_text().splitlines() if line.strip()]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()

    def shipped(name: str) -> bool:
        return not any(name == rule or (rule.endswith("/") and name.startswith(rule)) for rule in ignored)

    return [ROOT / name for name in tracked if shipped(name) and (ROOT / name).is_file()]


def mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-tensorflow", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheels, target = Path(tmp) / "wheels", Path(tmp) / "site"
        pip("download", "--only-binary=:all:", "-r", str(ROOT / "requirements.txt"), "-d", str(wheels))
        pip(
            "install",
            "--no-index",
            "--find-links",
            str(wheels),
            "--no-compile",
            "--target",
            str(target),
            "-r",
            str(ROOT / "requirements.txt"),
        )
        files = sorted(wheels.iterdir(), key=lambda f: f.stat().st_size, reverse=True)
        compressed, installed = sum(f.stat().st_size for f in files), folder_bytes(target)
        print(f"requirements.txt: {len(files)} wheels, {mb(compressed)} compressed, {mb(installed)} installed")
        for wheel in files[:6]:
            print(f"  {wheel.stat().st_size / 2**20:6.1f} MB  {wheel.name}")
        print(f"app files in the slug (tracked files less .slugignore): {mb(sum(f.stat().st_size for f in slug_files()))}")
        if args.with_tensorflow:
            tf_dir = Path(tmp) / "tf"
            pip("download", "--only-binary=:all:", "--no-deps", "tensorflow-cpu", "-d", str(tf_dir))
            print(f"for comparison, tensorflow-cpu alone: {mb(folder_bytes(tf_dir))} compressed (without its dependencies)")


if __name__ == "__main__":
    main()
