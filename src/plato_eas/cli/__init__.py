"""The ``eas`` console script: every operator action, the reports, the daemons and the embedded
runner (``eas --help``; the commands are in :mod:`.parser`, what they run in :mod:`.commands`).

No traceback ever reaches an operator: a failure is one line on standard error (exit 1), a
closed pipe (``eas report job_tree | head``) ends quietly, Ctrl-C and SIGTERM end with one
line, and a bug shows its traceback only with ``-v``.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

from ..errors import EasError, Interrupted
from . import commands, output
from .parser import build_parser

INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug, not the operator's doing
log = logging.getLogger("plato_eas.cli")


def _logging(verbosity: int) -> None:
    level = logging.WARNING if not verbosity else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # A daemon's start line (database, queue, task types, pid) shows without -v as well.
    logging.getLogger("plato_eas.daemon").setLevel(min(level, logging.INFO))


def _quiet_stdout() -> None:
    """Standard output was closed by its reader: drop what is still buffered for it."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        _logging(args.verbose)
        result, status = commands.dispatch(args)
        output.show(args, result)
        sys.stdout.flush()
        return status
    except BrokenPipeError:  # `eas report job_tree | head`
        _quiet_stdout()
        return 128 + signal.SIGPIPE
    except Interrupted as exc:  # one line: what went back to the queue
        print(f"eas: {exc}", file=sys.stderr)
        return 128 + exc.signum
    except EasError as exc:
        print(f"eas: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("eas: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback with -v
        log.debug("unexpected error", exc_info=True)
        print(f"eas: unexpected error ({type(exc).__name__}: {exc}); run again with -vv to see "
              "where, and report it", file=sys.stderr)
        return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
