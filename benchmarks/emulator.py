"""The benchmark's AWS: moto's server in a process of its own, AWS-like paging, a fixed latency per call.

    python -m benchmarks.emulator --latency-ms 40

prints `READY http://127.0.0.1:PORT` once seeded and serving, then serves until killed. Every
AWS request sleeps `--latency-ms` in this process before moto answers it, so the measured client
pays the latency as it would against AWS while its own CPU time stays its own. The PACS stack's
existing infrastructure is seeded first (without the latency), as for the demo. GET
/bench/latency reports the requests served and this process's CPU seconds so far (`?ms=N` sets
the latency).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

from pacs_reconcile.aws import READ_PREFIXES

REGION = "ap-northeast-2"
CONTROL_PATH = "/bench/latency"


class ReadWriteLock:
    """Many readers at once, or one writer: AWS serves concurrent reads; moto's backends are not
    thread-safe when a write changes a dict a read iterates ("dictionary changed size")."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._writing)
            self._readers += 1
        try:
            yield
        finally:
            with self._changed:
                self._readers -= 1
                self._changed.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._writing and self._readers == 0)
            self._writing = True
        try:
            yield
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()


def operation_of(environ: dict[str, Any]) -> str:
    """The AWS operation a request calls: X-Amz-Target (JSON APIs), Action (query APIs), else the
    HTTP method (REST APIs). Reads the body and puts it back for moto."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    action = parse_qs(body.decode(errors="replace")).get("Action") or parse_qs(
        environ.get("QUERY_STRING", "")
    ).get("Action")
    return action[0] if action else str(environ.get("REQUEST_METHOD", "GET"))


def is_read(operation: str) -> bool:
    return operation.startswith(READ_PREFIXES) or operation in ("GET", "HEAD")


class DelayedApp:
    """WSGI middleware: sleep before every AWS request (moto's own /moto-api calls are not delayed),
    then let moto answer: reads side by side, writes alone (see ReadWriteLock)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], latency_s: float) -> None:
        self.app = app
        self.latency_s = latency_s
        self.requests = 0
        self._count_lock = threading.Lock()
        self._moto_lock = ReadWriteLock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == CONTROL_PATH:
            return self._control(environ, start_response)
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)
        with self._count_lock:
            self.requests += 1
        if self.latency_s:
            time.sleep(self.latency_s)
        access = self._moto_lock.reading if is_read(operation_of(environ)) else self._moto_lock.writing
        with access():
            answer = self.app(environ, start_response)
            try:
                return [b"".join(answer)]  # the whole body, made while the lock is held
            finally:
                close = getattr(answer, "close", None)
                if close is not None:
                    close()

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "ms" in query:
            self.latency_s = float(query["ms"][0]) / 1000
        state = {"latency_ms": self.latency_s * 1000, "requests": self.requests, "cpu_s": time.process_time()}
        body = json.dumps(state).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    import boto3
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from pacs_reconcile.emulator import install_moto_patches
    from pacs_reconcile.emulator.seed import seed_existing_infrastructure
    from pacs_reconcile.emulator.server import free_port, use_fake_credentials

    from . import fidelity

    use_fake_credentials()
    install_moto_patches()
    fidelity.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = DelayedApp(DomainDispatcherApplication(create_backend_app), latency_s=0.0)
    port = args.port or free_port()
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{port}"
    seed_existing_infrastructure(boto3.Session(region_name=REGION), REGION, endpoint)
    app.latency_s = args.latency_ms / 1000
    print(f"READY {endpoint}", flush=True)
    try:
        thread.join()
    except KeyboardInterrupt:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
