"""python -m driftrec.report STORE --out report.html [--user ID ...] [--evaluation JSON]:
what `driftrec report` runs. Exit 0 ok, 2 bad input (one line on stderr), 1 otherwise."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="driftrec report", description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--out", required=True, help="the HTML file to write")
    parser.add_argument("--user", action="append", default=[], help="a user id to show (repeatable)")
    parser.add_argument("--evaluation", help="the JSON of `driftrec evaluate --json FILE`")
    args = parser.parse_args(argv)
    from .. import InputError, NumericalError
    from . import write_report

    try:
        write_report(args.store, args.out, users=args.user, evaluation=args.evaluation)
    except (InputError, NumericalError) as e:
        print(f"driftrec: error: {e}", file=sys.stderr)
        return 2
    print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
