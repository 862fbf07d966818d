"""`python -m azure_emulator --inventory FILE --port N` (also what `azbackup emulator` runs)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
from collections.abc import Sequence

from azure_emulator import inventory
from azure_emulator.app import Emulator
from azure_emulator.server import ready_line, start
from azure_emulator.settings import Settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="azure_emulator",
        description="A local HTTPS emulator of Azure Resource Manager and Entra ID for Azure "
        "VM Backup (Recovery Services, Compute, Network, Storage).",
    )
    p.add_argument("--inventory", help="YAML/JSON inventory (default: the packaged sample fleet)")
    p.add_argument("--port", type=int, default=8443, help="port to listen on; 0 picks a free one (default 8443)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    p.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply durations of operations and jobs (default 1.0; tests use 0.01)",
    )
    p.add_argument("--throttling", action="store_true", help="enforce ARM's token-bucket limits (429)")
    p.add_argument("--page-size", type=int, default=200, help="items per list page (default 200)")
    p.add_argument("--token-lifetime", type=int, default=3600, help="access token lifetime in seconds")
    p.add_argument("--state-dir", help="directory for the CA and server certificate (default: a new temp dir)")
    p.add_argument("--print-sample-path", action="store_true", help="print the packaged sample fleet path and exit")
    p.add_argument("--log-level", default="WARNING", help="logging level on stderr (default WARNING)")
    return p


async def _serve(args: argparse.Namespace) -> None:
    settings = Settings(
        time_scale=args.time_scale,
        throttling=args.throttling,
        page_size=args.page_size,
        token_lifetime=args.token_lifetime,
    )
    emulator = Emulator(inventory.load_document(args.inventory), settings)
    state_dir = args.state_dir or tempfile.mkdtemp(prefix="azure-emulator-")
    listening = await start(emulator, host=args.host, port=args.port, state_dir=state_dir)
    print(ready_line(emulator, listening), flush=True)
    print(f"azure-emulator listening on {listening.url} (CA bundle {listening.ca_bundle})", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await listening.runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse arguments, serve until SIGINT/SIGTERM; returns the exit code."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.print_sample_path:
        print(inventory.sample_fleet_path())
        return 0
    try:
        inventory.load_inventory(args.inventory)
    except (OSError, inventory.InventoryError) as exc:
        print(f"azure_emulator: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(args))
    except OSError as exc:
        print(f"azure_emulator: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
