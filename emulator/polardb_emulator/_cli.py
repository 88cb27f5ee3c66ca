"""Command line: ``polardb-emulator serve --seed FILE [...]``."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import _logs
from ._runner import ServeOptions, StartupError, prepare, ready_info
from ._server import serve


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="polardb-emulator",
        description="A local emulator of the Alibaba Cloud PolarDB 2017-08-01 API.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="serve the API until SIGTERM/SIGINT")
    run.add_argument("--seed", required=True, type=Path, help="seed file (YAML or JSON)")
    run.add_argument("--state", type=Path, help="state file: loaded at start, saved on change")
    run.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=0, help="port to bind (default 0: any free)")
    run.add_argument("--tls", action="store_true", help="serve HTTPS with a generated CA")
    run.add_argument(
        "--task-seconds",
        type=float,
        help="duration of asynchronous tasks (overrides settings.task_seconds)",
    )
    run.add_argument(
        "--backend",
        choices=("memory", "mariadb"),
        help="where accounts live: memory (default) or a real MariaDB server per MySQL "
        "cluster (overrides settings.backend)",
    )
    run.add_argument(
        "--mariadbd",
        type=Path,
        help="the mariadbd binary for --backend mariadb (default: PATH, then /usr/sbin)",
    )
    run.add_argument(
        "--client-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="a client has this long to send its request headers (from connecting or from "
        "the previous response) and its body; idle connections are closed after it "
        "(default 30)",
    )
    run.add_argument(
        "--max-connections",
        type=int,
        metavar="N",
        help="connections kept at once; the one idle longest is closed for a new one "
        "(default: half the open-files limit, at most 1024)",
    )
    run.add_argument("--quiet", action="store_true", help="no per-request log lines on stderr")
    return parser


class _Interrupted(BaseException):
    """SIGTERM/SIGINT while starting: unwinds so that every server started is stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, frame: object) -> None:
    # The unwinding stops servers: a second signal must not cut that short.
    _set_signals(signal.SIG_IGN)
    raise _Interrupted(signum)


def _set_signals(handler: Any) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``polardb-emulator`` console script."""
    args = _parser().parse_args(argv)
    _logs.configure(quiet=args.quiet)
    options = ServeOptions(
        seed_path=args.seed,
        state_path=args.state,
        host=args.host,
        port=args.port,
        tls=args.tls,
        task_seconds=args.task_seconds,
        backend=args.backend,
        mariadbd=args.mariadbd,
        client_timeout=args.client_timeout,
        max_connections=args.max_connections,
    )
    _set_signals(_interrupt)
    try:
        prepared = prepare(options)
    except StartupError as exc:
        _set_signals(signal.SIG_IGN)
        print(exc, file=sys.stderr)
        return exc.exit_code
    except _Interrupted as exc:
        _set_signals(signal.SIG_IGN)
        print(f"interrupted by signal {exc.signum} while starting", file=sys.stderr)
        return 128 + exc.signum

    def ready(address: tuple[str, int]) -> None:
        sys.stdout.write(json.dumps(ready_info(options, prepared, address)) + "\n")
        sys.stdout.flush()

    try:
        asyncio.run(
            serve(
                prepared.emulator,
                host=args.host,
                port=args.port,
                ssl_context=prepared.ssl_context,
                on_ready=ready,
                limits=options.limits,
            )
        )
    except OSError as exc:
        print(f"error: cannot serve on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    except _Interrupted:
        pass  # a signal before the loop took over: stop as asked
    finally:
        # Stopping the servers must not be cut short by a second signal.
        _set_signals(signal.SIG_IGN)
        prepared.close()  # databases stopped, this run's temporary directory removed
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
