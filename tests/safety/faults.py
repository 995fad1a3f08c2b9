"""A botocore `before-send` fault injector: what real AWS throws at a client, on demand.

Attached to a botocore event emitter (an AwsContext's session, before its clients exist), it
decides per HTTP attempt whether to let it through or to answer it with a fault:

- "throttle": 400 with the service's throttling code (retried with backoff by botocore);
- "5xx": 503 ServiceUnavailable (retried);
- "reset": ConnectionClosedError raised before the request leaves (retried);
- "connect": EndpointConnectionError (retried);
- "lost": the request is sent and processed, then the response is lost (ConnectionClosedError):
  botocore retries a call AWS already carried out (server mode only: needs a real endpoint);
- "slow": the attempt waits `slow_seconds` first, then goes through;
- "denied": AccessDenied, for the operations matched by `denied` (never retried).

Error bodies are written in each service's wire protocol (JSON, query XML, EC2 XML, REST-XML,
Smithy RPC v2 CBOR) so botocore parses them exactly as it parses AWS's. The decision is drawn
from a seeded random generator: a run is reproducible. `fast_retries` shrinks botocore's backoff
and adaptive rate-limiter clock (same policy, less wall time) so storms stay quick in tests.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.session
import pytest
import urllib3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

UNROUTABLE = "http://127.0.0.1:9/answered-by-the-fault-injector"
RETRIED = ("throttle", "5xx", "reset", "connect", "lost", "slow")

SERVICES = (
    "logs",
    "cloudwatch",
    "sns",
    "ssm",
    "ecs",
    "efs",
    "iam",
    "lambda",
    "events",
    "ec2",
    "resourcegroupstaggingapi",
    "sts",
    "rds",
    "s3",
    "elbv2",
    "autoscaling",
    "application-autoscaling",
    "route53",
    "servicediscovery",
    "kms",
    "sqs",
    "firehose",
)
"""Every service the tool makes a client of (tests/safety/test_faults.py checks the list against
the code): a fault is written in the service's own protocol."""


def _protocols() -> dict[str, tuple[str, str]]:
    """Hyphenized service id (as in event names) -> (protocol, signing name)."""
    session = botocore.session.get_session()
    out = {}
    for name in SERVICES:
        model = session.get_service_model(name)
        out[model.service_id.hyphenize()] = (model.protocol, model.signing_name)
    return out


PROTOCOLS = _protocols()
THROTTLE_CODES = {"ec2": "RequestLimitExceeded", "query": "Throttling", "rest-xml": "SlowDown"}
DENIED_CODES = {"ec2": "UnauthorizedOperation", "query": "AccessDenied", "rest-xml": "AccessDenied"}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    assert len(data) < 256
    return (bytes([0x60 + len(data)]) if len(data) < 24 else bytes([0x78, len(data)])) + data


def error_response(
    protocol: str, status: int, code: str, message: str, url: str = "", service: str = ""
) -> AWSResponse:
    """An HTTP error response as the service's protocol writes it (rest-xml: S3's bare <Error>,
    the other rest-xml services, Route 53 and CloudFront, an <ErrorResponse> around it, as
    botocore's RestXMLParser documents)."""
    headers = {"x-amzn-RequestId": "fault-injector", "x-amzn-ErrorType": code}
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers["Content-Type"] = "application/x-amz-json-1.1"
    elif protocol == "smithy-rpc-v2-cbor":
        pairs = (("__type", code), ("message", message))
        body = bytes([0xA0 + len(pairs)]) + b"".join(_cbor_text(k) + _cbor_text(v) for k, v in pairs)
        headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}
    elif protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            "<RequestID>fault-injector</RequestID></Response>"
        ).encode()
    elif protocol == "rest-xml" and service == "s3":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    elif protocol == "rest-xml":
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
            "</Error><RequestId>fault-injector</RequestId></ErrorResponse>"
        ).encode()
    else:  # query
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
            "</Error><RequestId>fault-injector</RequestId></ErrorResponse>"
        ).encode()
    return AWSResponse(url, status, headers, _Raw(body))


def access_denied_message(action: str, region: str = "ap-northeast-2") -> str:
    """What AWS answers, naming the principal, the action and the resource."""
    return (
        f"User: arn:aws:sts::123456789012:assumed-role/pacs-deployer/ci is not authorized to perform: "
        f"{action} on resource: arn:aws:{action.split(':')[0]}:{region}:123456789012:* because no "
        f"identity-based policy allows the {action} action"
    )


def _sent_protocol(request: Any, modeled: str) -> str:
    """The protocol the request was actually written in (a service may support several)."""
    headers = {k.lower(): str(v) for k, v in request.headers.items()}
    if "smithy-protocol" in headers:
        return "smithy-rpc-v2-cbor"
    if "x-amz-target" in headers:
        return "json"
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return "ec2" if modeled == "ec2" else "query"
    return modeled


@dataclass
class FaultInjector:
    """Injects faults into a share (`rate`) of HTTP attempts, drawn from `kinds`."""

    rate: float = 0.0
    kinds: tuple[str, ...] = ("throttle",)
    seed: int = 0
    denied: Callable[[str, str], bool] | None = None
    """(service id, operation) -> answer AccessDenied."""
    only: Callable[[str, str], bool] | None = None
    """(service id, operation) -> eligible for the random faults (default: every call)."""
    slow_seconds: float = 0.05
    max_faults: int = 10_000
    max_in_a_row: int | None = None
    """At most this many faults on the attempts of one call: its next attempt goes through. Random
    faults at rate r exhaust a call of n attempts with probability r**n, whatever the retry
    policy (0.35**9 is 8e-5: about one run in a hundred fails over ~140 calls); a storm the
    policy must absorb gives each call fewer faults in a row than it has attempts."""
    injected: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    _random: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _http: urllib3.PoolManager = field(default_factory=urllib3.PoolManager)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def attach(self, events: Any) -> None:
        events.register_first("before-send.*.*", self.before_send)

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    def _draw(self, service: str, operation: str, attempt: int = 1) -> str | None:
        with self._lock:
            self.attempts += 1
            if self.denied and self.denied(service, operation):
                self.injected["denied"] += 1
                return "denied"
            if self.only and not self.only(service, operation):
                return None
            if self.max_in_a_row is not None and attempt > self.max_in_a_row:
                return None
            if self.total >= self.max_faults or self._random.random() >= self.rate:
                return None
            kind = self._random.choice(self.kinds)
            self.injected[kind] += 1
            return kind

    def before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        _, service, operation = event_name.split(".", 2)
        context = getattr(request, "context", None) or {}
        kind = self._draw(service, operation, int((context.get("retries") or {}).get("attempt") or 1))
        if kind is None:
            return None
        protocol, signing = PROTOCOLS.get(service, ("json", service))
        protocol = _sent_protocol(request, protocol)
        url = str(request.url)
        if kind in ("throttle", "5xx", "denied"):
            # Answered here: make sure no later before-send handler (moto's in-process stubber)
            # carries the request out anyway. botocore builds a new request for each attempt.
            request.url = UNROUTABLE
        if kind == "throttle":
            code = THROTTLE_CODES.get(protocol, "ThrottlingException")
            return error_response(
                protocol, 503 if code == "SlowDown" else 400, code, "Rate exceeded", url, signing
            )
        if kind == "5xx":
            return error_response(protocol, 503, "ServiceUnavailable", "Service is unavailable", url, signing)
        if kind == "reset":
            raise ConnectionClosedError(endpoint_url=url)
        if kind == "connect":
            raise EndpointConnectionError(endpoint_url=url)
        if kind == "lost":
            # Only ever against the local moto server: never send anything toward real AWS.
            assert url.startswith("http://127.0.0.1:"), f"a lost response needs the local server, not {url}"
            self._http.request(
                request.method,
                url,
                body=request.body or None,
                headers=dict(request.headers),
                retries=False,
                timeout=30,
            )
            raise ConnectionClosedError(endpoint_url=url)
        if kind == "slow":
            time.sleep(self.slow_seconds)
            return None
        prefix = "cloudwatch" if signing == "monitoring" else signing
        code = DENIED_CODES.get(protocol, "AccessDeniedException")
        return error_response(
            protocol,
            403 if protocol != "ec2" else 400,
            code,
            access_denied_message(f"{prefix}:{operation}"),
            url,
            signing,
        )


@contextmanager
def fast_retries(monkeypatch: pytest.MonkeyPatch, speedup: float = 100.0) -> Iterator[None]:
    """botocore's retry policy as configured (mode, attempts, quota, adaptive rate), its clock
    `speedup` times faster: backoff sleeps and the token bucket's waits shrink alike."""
    from botocore.retries import bucket, standard

    delay = standard.ExponentialBackoff.delay_amount
    sleep_amount = bucket.TokenBucket._sleep_amount
    monkeypatch.setattr(
        standard.ExponentialBackoff, "delay_amount", lambda self, context: delay(self, context) / speedup
    )
    monkeypatch.setattr(bucket.Clock, "current_time", lambda self: time.monotonic() * speedup)
    monkeypatch.setattr(
        bucket.TokenBucket, "_sleep_amount", lambda self, amount: sleep_amount(self, amount) / speedup
    )
    yield


def inject_into_every_context(monkeypatch: pytest.MonkeyPatch, injector: FaultInjector) -> None:
    """Every AwsContext made from now on (e.g. by the CLI) sends through `injector`."""
    from pacs_reconcile import aws as aws_module

    original = aws_module.AwsContext.__init__

    def init(ctx: aws_module.AwsContext, *args: Any, **kwargs: Any) -> None:
        original(ctx, *args, **kwargs)
        injector.attach(ctx.events)

    monkeypatch.setattr(aws_module.AwsContext, "__init__", init)
