"""Build the frozen desktop application: `python tools/build.py [--dist DIR] [--work DIR] [--smoke]`.

Stamps the version from the repository (`git describe`) into a qatt/_build_version.py that only the
build holds (written in the work folder and added by packaging/qatt.spec), so a source checkout never
shows a build number, not even to a process started while a build runs. The result is one folder, DIST/QATT/, with QATT (the desktop) and qatt-cli.
`--smoke` then runs `QATT --self-test` and `qatt-cli --version` from the built folder.
Needs requirements-build.txt (PyInstaller); on Linux also binutils (objdump).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qatt.version import write_stamp  # noqa: E402

STAMP_ENV = "QATT_BUILD_STAMP"  # tells packaging/qatt.spec where the stamp is


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def executable(folder: Path, name: str) -> Path:
    return folder / (name + (".exe" if os.name == "nt" else ""))


def build(dist: Path, work: Path) -> Path:
    stamp_file = work / "stamp" / "_build_version.py"  # not under work/qatt/, which --clean empties
    stamp_file.parent.mkdir(parents=True, exist_ok=True)
    stamp = write_stamp(stamp_file)
    print(f"building QATT, version stamp {stamp}", flush=True)
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(dist), "--workpath", str(work), str(ROOT / "packaging" / "qatt.spec")],
                   check=True, cwd=ROOT, env=dict(os.environ, **{STAMP_ENV: str(stamp_file)}))
    folder = dist / "QATT"
    # PyInstaller links each Qt library into _internal/; the ones the spec left out leave dangling links.
    for link in [p for p in folder.rglob("*") if p.is_symlink() and not p.exists()]:
        link.unlink()
    return folder


def smoke(folder: Path) -> None:
    """Run both executables; exits non-zero (CalledProcessError) if any check fails."""
    import tempfile

    for command in ([str(executable(folder, "qatt-cli")), "--version"],
                    [str(executable(folder, "QATT")), "--version"],
                    [str(executable(folder, "QATT")), "--self-test"]):
        print("$", " ".join(command), flush=True)
        done = subprocess.run(command)
        if os.name == "nt" and command[0].endswith("QATT.exe"):
            # The windowed desktop has no console: it writes what it would print to %TEMP%.
            name = "qatt-self-test.txt" if "--self-test" in command else "qatt-version.txt"
            print((Path(tempfile.gettempdir()) / name).read_text(encoding="utf-8"), flush=True)
        if done.returncode != 0:
            raise subprocess.CalledProcessError(done.returncode, command)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the QATT folder goes (default dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="PyInstaller's work folder (default build/)")
    parser.add_argument("--smoke", action="store_true", help="run the built executables' self-test afterwards")
    args = parser.parse_args()
    started = time.perf_counter()
    folder = build(args.dist, args.work)
    print(f"built {folder} in {time.perf_counter() - started:.0f} s: {folder_size(folder) / 2**20:.0f} MB", flush=True)
    if args.smoke:
        smoke(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
