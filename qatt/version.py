"""Which QATT this is: the release number, and the repository version the build was made from.

A frozen build carries `qatt/_build_version.py`, written by tools/build.py from `git describe`. A
source checkout asks git when the version is shown (never at import), and says so when it cannot.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import Optional

import qatt

ROOT = Path(__file__).resolve().parents[1]


def describe_repository(root: Path = ROOT) -> Optional[str]:
    """`git describe --tags --always --dirty` of the checkout at `root`, or None without git or a repository."""
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(["git", "describe", "--tags", "--always", "--dirty"], cwd=root, capture_output=True,
                              text=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def version_text() -> str:
    """'0.1.0 (build ce12fb5)', '0.1.0 (source ce12fb5-dirty)' or '0.1.0 (source; repository version unknown)'."""
    if qatt.__build__:
        return f"{qatt.__version__} (build {qatt.__build__})"
    described = describe_repository()
    return f"{qatt.__version__} (source {described})" if described else f"{qatt.__version__} (source; repository version unknown)"


def write_stamp(target: Path = ROOT / "qatt" / "_build_version.py", root: Path = ROOT) -> str:
    """Write the build stamp (used by tools/build.py); returns what was stamped."""
    stamp = describe_repository(root) or "unknown"
    target.write_text(f'"""Written by tools/build.py; not in the repository."""\n\nBUILD = {stamp!r}\n', encoding="utf-8")
    return stamp


class VersionAction(argparse.Action):
    """`--version`, worked out only when asked for (it may run git)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help="show the version and exit",
                 prog: str = "qatt"):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)
        self.prog = prog

    def __call__(self, parser, namespace, values, option_string=None):
        import sys

        text = f"{self.prog} {version_text()}\n"
        if sys.stdout is not None:  # a windowed executable on Windows has no standard output
            sys.stdout.write(text)
        else:  # pragma: no cover - Windows windowed build only
            _write_beside_temp("qatt-version.txt", text)
        parser.exit(0)


def _write_beside_temp(name: str, text: str) -> Path:
    import tempfile

    path = Path(tempfile.gettempdir()) / name
    path.write_text(text, encoding="utf-8")
    return path
