"""A local AWS emulator (moto's threaded server) on 127.0.0.1, patched and seeded for the PACS stack."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..errors import ReconcileError
from . import DEFAULT_PORT as DEFAULT_PORT

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass(frozen=True)
class Emulator:
    endpoint_url: str
    region: str
    seeded: dict[str, str]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def use_fake_credentials() -> None:
    """Make sure nothing in this process can sign requests for a real AWS account."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(FAKE_CREDENTIALS)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    # moto loads ~2,600 machine images on every EC2 reset; the seeded stack needs none
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


class PortInUse(ReconcileError):
    """The emulator's port is taken (exit 1)."""


def check_port_free(port: int) -> None:
    """Refuse a taken port up front: moto's threaded server would report the failed bind from its
    own thread and leave the caller waiting forever for a server that never started."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise PortInUse(
                f"port {port} on 127.0.0.1 is in use ({exc.strerror}); "
                "choose another with --port N (0 picks a free one)"
            ) from None


@contextmanager
def running_emulator(region: str, port: int | None = None, seed: bool = True) -> Iterator[Emulator]:
    """Start the emulator (patched, optionally seeded), yield its endpoint, stop it on exit."""
    if port:
        check_port_free(port)
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        from ..errors import UsageError

        raise UsageError("the local emulator needs moto: pip install 'pacs-reconcile[emulator]'") from None
    import boto3

    from . import install_moto_patches
    from .seed import seed_existing_infrastructure

    use_fake_credentials()
    install_moto_patches()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per call is noise here
    port = port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        seeded: dict[str, str] = {}
        if seed:
            seeded = seed_existing_infrastructure(boto3.Session(region_name=region), region, endpoint)
        yield Emulator(endpoint, region, seeded)
    finally:
        server.stop()
