"""A moto server in its own process, patched like the emulator, for the crash
tests: `python tests/safety/moto_server_process.py PORT` prints "ready" once it listens and
runs until its stdin closes."""

from __future__ import annotations

import logging
import sys

from moto.server import ThreadedMotoServer

from pacs_reconcile.emulator import install_moto_patches
from pacs_reconcile.emulator.server import use_fake_credentials

if __name__ == "__main__":
    use_fake_credentials()
    install_moto_patches()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
    server.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the test closes our stdin (or kills us)
    server.stop()
