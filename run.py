"""Launch the QATT desktop app: `python run.py [--db PATH_OR_URL] [--user NAME]`.

`--version` prints the version; `--self-test` checks an installation without touching its data
(ui/self_test.py). The frozen build's desktop executable runs this same file."""

import argparse
import sys


def main() -> int:
    from qatt.version import VersionAction

    parser = argparse.ArgumentParser(description="QATT desktop app")
    parser.add_argument("--db", help="database file or postgresql:// URL (default: $QATT_DB, then the per-user data folder)")
    parser.add_argument("--user", help="act as this user (default: $QATT_USER, then the operating-system login)")
    parser.add_argument("--version", action=VersionAction, prog="QATT desktop")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation offscreen in a temporary data folder (demo, draw, workbook, "
                             "back-up), print what was checked and exit 0 if all passed")
    args, qt_args = parser.parse_known_args()
    if args.self_test:
        from ui.self_test import main as self_test

        return self_test()
    import gc

    # Start-up is one thread allocating many long-lived objects (modules, Qt types): no cyclic
    # collection until ui.gc_guard's timer collects on the GUI thread, about a second after the window.
    gc.disable()
    from ui.app import main as ui_main

    return ui_main(db_url=args.db, user=args.user, qt_args=[sys.argv[0], *qt_args])


if __name__ == "__main__":
    sys.exit(main())
