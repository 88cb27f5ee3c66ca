"""Command line: ``polardb-emulator serve --seed FILE [...]``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

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
    run.add_argument("--quiet", action="store_true", help="no per-request log lines on stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``polardb-emulator`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="polardb-emulator: %(message)s",
        stream=sys.stderr,
    )
    options = ServeOptions(
        seed_path=args.seed,
        state_path=args.state,
        host=args.host,
        port=args.port,
        tls=args.tls,
        task_seconds=args.task_seconds,
    )
    try:
        prepared = prepare(options)
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code

    def ready(port: int) -> None:
        sys.stdout.write(json.dumps(ready_info(options, prepared, port)) + "\n")
        sys.stdout.flush()

    try:
        asyncio.run(
            serve(
                prepared.emulator,
                host=args.host,
                port=args.port,
                ssl_context=prepared.ssl_context,
                on_ready=ready,
            )
        )
    except OSError as exc:
        print(f"error: cannot serve on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
