"""Command line: ``polardb-emulator serve --seed FILE [...]``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ._seed import SeedError, load_seed
from ._server import Emulator, serve
from ._state import StateError
from ._tls import make_server_context


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
    if args.task_seconds is not None and args.task_seconds < 0:
        print("error: --task-seconds must be >= 0", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="polardb-emulator: %(message)s",
        stream=sys.stderr,
    )
    try:
        seed = load_seed(args.seed)
    except SeedError as exc:
        print(f"seed error: {exc}", file=sys.stderr)
        return 2
    try:
        emulator = Emulator(seed, state_path=args.state, task_seconds=args.task_seconds)
    except StateError as exc:
        print(f"state error: {exc}", file=sys.stderr)
        return 2
    ssl_context, ca_file = None, None
    if args.tls:
        ssl_context, ca_file = make_server_context(args.state.parent if args.state else None)
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "", "::") else args.host  # noqa: S104
    scheme = "https" if args.tls else "http"

    def ready(port: int) -> None:
        host_port = f"[{shown_host}]:{port}" if ":" in shown_host else f"{shown_host}:{port}"
        info = {
            "endpoint": host_port,
            "protocol": scheme,
            "admin_url": f"{scheme}://{host_port}/_emulator",
        }
        if ca_file is not None:
            info["ca_file"] = str(ca_file)
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()

    try:
        asyncio.run(
            serve(emulator, host=args.host, port=args.port, ssl_context=ssl_context, on_ready=ready)
        )
    except OSError as exc:
        print(f"error: cannot serve on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
