"""Launch the QATT desktop app: `python run.py [--db PATH_OR_URL] [--user NAME]`."""

import argparse
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description="QATT desktop app")
    parser.add_argument("--db", help="database file or postgresql:// URL (default: $QATT_DB, then the per-user data folder)")
    parser.add_argument("--user", help="act as this user (default: $QATT_USER, then the operating-system login)")
    args, qt_args = parser.parse_known_args()
    from ui.app import main as ui_main

    return ui_main(db_url=args.db, user=args.user, qt_args=[sys.argv[0], *qt_args])


if __name__ == "__main__":
    sys.exit(main())
