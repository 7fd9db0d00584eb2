"""``python -m vobiz_provider.testing``: serve the fake Vobiz API in the foreground.

Seeded with a live room "Daily Standup" (3 members) that is recording. Ctrl-C or SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import TYPE_CHECKING

from vobiz_provider.testing.server import FakeVobizServer

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType

DEMO_ROOM = "Daily Standup"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vobiz_provider.testing", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (0: any free port)")
    parser.add_argument(
        "--host",
        action="append",
        dest="hosts",
        help="address to listen on; repeat for more (all on the same port). Default 127.0.0.1",
    )
    parser.add_argument("--auth-id", default="MA_DEMO0001")
    parser.add_argument("--auth-token", default="demo-token")
    parser.add_argument(
        "--processing-delay", type=float, default=2.0, help="seconds before a stopped recording is listed"
    )
    parser.add_argument(
        "--file-delay", type=float, default=1.0, help="further seconds before its file can be downloaded"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    server = FakeVobizServer(
        auth_id=args.auth_id,
        auth_token=args.auth_token,
        listen_hosts=tuple(args.hosts or ("127.0.0.1",)),
        port=args.port,
    )
    server.start()
    try:
        server.configure(processing_delay_s=args.processing_delay, file_delay_s=args.file_delay)
        server.add_room(DEMO_ROOM, members=3, recording=True)
        done = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            done.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        api = f"{server.base_url}/api/v1/Account/{server.auth_id}"
        auth = f'-H "X-Auth-ID: {server.auth_id}" -H "X-Auth-Token: {server.auth_token}"'
        print(f"Fake Vobiz API on {server.base_url}", flush=True)
        print(f"  auth id:    {server.auth_id}\n  auth token: {server.auth_token}")
        print(f"  live room '{DEMO_ROOM}' is recording")
        print(f"  list:  curl {auth} {api}/Recording/")
        print(f"  stop:  curl -X DELETE {auth} '{api}/Conference/Daily%20Standup/Record/'")
        print("  control API (no auth) under /_fake/ ; Ctrl-C to stop", flush=True)
        # Event.wait with a timeout keeps the main thread responsive to signals everywhere.
        while not done.wait(0.5):
            pass
    finally:
        server.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
