"""One AWS session per run: shared clients, one retry policy, and accounting of every call."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from xml.etree import ElementTree

if TYPE_CHECKING:  # botocore is imported lazily so `--help` and `validate` stay fast.
    from botocore.hooks import BaseEventHooks
    from botocore.session import Session as BotocoreSession

from . import retry_policy
from .errors import ReconcileError

T = TypeVar("T")

READ_PREFIXES = ("Describe", "List", "Get", "Head", "Lookup", "Filter", "Test", "Search")
CONNECT_ATTEMPTS = 5
"""Attempts at an endpoint that cannot be reached (refused, no route, connect timeout) before the
call fails: botocore's standard and adaptive modes retry connection errors like throttling, up to
max_attempts with exponential backoff (https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html),
which with 8 attempts kept a run silent for about 20 s at a closed port."""
CONNECT_TIMEOUT = 5
"""Seconds to open a connection: AWS endpoints answer in milliseconds; a dropped one fails sooner."""


def is_mutating(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES)


@dataclass
class CallStats:
    """AWS calls by operation ("service.Operation"), HTTP attempts (retries included), time spent."""

    calls: Counter[str] = field(default_factory=Counter)
    attempts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_call(self, name: str) -> None:
        with self._lock:
            self.calls[name] += 1

    def record_attempt(self, name: str) -> None:
        with self._lock:
            self.attempts[name] += 1

    def record_time(self, elapsed: float) -> None:
        with self._lock:
            self.seconds += elapsed

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def retries(self) -> int:
        return max(0, sum(self.attempts.values()) - self.total)

    def mutating(self) -> dict[str, int]:
        return {k: v for k, v in self.calls.items() if is_mutating(k.split(".", 1)[1])}


XML_PROTOCOLS = ("query", "ec2", "rest-xml")


def blank_unparseable_server_error(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
    """A 5xx answered with a body that is not the protocol's XML (a proxy's or load balancer's HTML
    page) is made a bodiless 5xx, which botocore parses as a generic error and retries like any
    5xx. Left alone, the XML parser raises ResponseParserError, which botocore never retries: a
    read failed on the first such page while JSON services retried it."""
    if response_dict.get("status_code", 0) < 500:
        return
    if operation_model.service_model.resolved_protocol not in XML_PROTOCOLS:
        return  # botocore's JSON parsers read a non-JSON error body as its message
    body = response_dict.get("body") or b""
    try:
        ElementTree.fromstring(body)
    except ElementTree.ParseError:
        response_dict["body"] = b""


@dataclass(frozen=True)
class AwsSettings:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = 8
    retry_mode: str = "standard"
    """"standard": botocore's standard mode with the backoff cap and the per-operation rate
    limiting of retry_policy; "adaptive" and "legacy" are botocore's own, unchanged."""
    max_pool_connections: int = 20
    role_arn: str | None = None
    """Make every call as this IAM role (STS AssumeRole with the base credentials, refreshed
    before they expire), e.g. an environment's `assume_role`."""
    role_session_name: str = "pacs-reconcile"
    role_external_id: str | None = None


def _botocore_session(
    settings: AwsSettings, *, whole_models: bool = False, events: BaseEventHooks | None = None
) -> BotocoreSession:
    """A new botocore session (its own credentials, events, clients and retry state) that shares the
    process's one model loader (aws_models), with the settings' profile and region. `whole_models`:
    the loader that keeps API models whole (aws_models.shared_loader); `events`: another session's
    event emitter, its handlers and botocore's built-in ones already registered.

    botocore's own session, not boto3's: boto3.Session only sets these two and makes clients with
    the same botocore call, but importing boto3 (its resource layer and s3transfer, which imports
    multiprocessing and concurrent.futures) cost ~16 ms of CPU per run, 2% of a plan. AWS sees
    botocore's user agent ("Botocore/<version> ...") where it saw boto3's ("Boto3/<version> ...
    md/Botocore#<version>")."""
    import botocore.session

    from .aws_models import shared_loader

    if events is None:
        core = botocore.session.get_session()
    else:
        core = botocore.session.Session(event_hooks=events, include_builtin_handlers=False)
    loader = shared_loader(core.get_config_variable("data_path"), whole=whole_models)
    core.register_component("data_loader", loader)
    # As boto3.Session(profile_name=..., region_name=...) does: None leaves botocore's own
    # resolution (AWS_PROFILE, AWS_DEFAULT_REGION, the profile's `region`) in place.
    if settings.profile is not None:
        core.set_config_variable("profile", settings.profile)
    if settings.region is not None:
        core.set_config_variable("region", settings.region)
    return core


_RATE_LIMITS_LOCK = threading.Lock()
_rate_limits: dict[tuple[str, str, str], retry_policy.OperationRateLimits] = {}


def _rate_limits_of_account(settings: AwsSettings, region: str) -> retry_policy.OperationRateLimits:
    """The per-operation rate limiters of one account and region, shared by every context of the
    process that calls it: AWS's API rate limits are per account and region, so several
    environments of one account (`--env all`) must draw on one budget, not one each.

    The account is known before any call only from an assumed role's ARN; contexts without a role
    use the process's own credentials (the same profile is the same account)."""
    if settings.role_arn and settings.role_arn.count(":") >= 5:
        account = "account:" + settings.role_arn.split(":")[4]
    else:
        account = "profile:" + (settings.profile or "")
    key = (account, region, settings.endpoint_url or "")
    with _RATE_LIMITS_LOCK:
        limits = _rate_limits.get(key)
        if limits is None:
            limits = _rate_limits[key] = retry_policy.OperationRateLimits()
        return limits


def forget_rate_limits() -> None:
    """Start every account's rate limiters afresh (for a process that runs unrelated work, e.g. tests)."""
    with _RATE_LIMITS_LOCK:
        _rate_limits.clear()


class AwsContext:
    """Shared clients (one per service, safe across threads) and the run's call accounting."""

    def __init__(self, settings: AwsSettings | None = None, stack: str = "") -> None:
        from botocore.config import Config

        self.settings = settings or AwsSettings()
        self.stack = stack
        self.stats = CallStats()
        self._session = _botocore_session(self.settings)
        self.region: str = self._session.get_config_variable("region") or self.settings.region or "us-east-1"
        self._config = Config(
            region_name=self.region,
            retries={"max_attempts": self.settings.max_attempts, "mode": self.settings.retry_mode},  # type: ignore[arg-type]
            max_pool_connections=self.settings.max_pool_connections,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=60,
        )
        if self.settings.role_arn:
            self._assume_role()
        self._rate_limits = _rate_limits_of_account(self.settings, self.region)
        self._clients: dict[str, Any] = {}
        self._client_locks: dict[str, threading.Lock] = {}
        self._whole_model_clients: dict[str, Any] = {}
        self._whole_model_lock = threading.Lock()
        self._whole_model_session: BotocoreSession | None = None
        self._lock = threading.Lock()
        self._account_id: str | None = None
        self._memo: dict[str, Any] = {}
        self._memo_locks: dict[str, threading.Lock] = {}
        self._call_started = threading.local()
        self.report: Callable[[str], None] = lambda message: None
        """Where progress worth a person's attention goes (a retry after a failed connection)."""
        self.trace: Callable[[str], None] | None = None
        """With -v: told of each AWS call as it completes."""
        self._reported: set[tuple[str, int]] = set()
        events = self.events
        events.register("before-call.*.*", self._on_before_call)
        events.register("before-send.*.*", self._on_before_send)
        events.register("after-call.*.*", self._on_after_call)
        events.register("after-call-error.*.*", self._on_after_call)
        events.register("before-parse.*.*", blank_unparseable_server_error)
        events.register("needs-retry.*.*", self._on_needs_retry)
        events.register("getattr", self._left_out)

    def _assume_role(self) -> None:
        """Swap the session's credentials for the role's: botocore's own assume-role provider
        (the one `role_arn` in an AWS profile uses), so they refresh themselves in long runs."""
        from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

        core = self._session
        source = core.get_credentials()
        role_arn = str(self.settings.role_arn)
        if source is None:
            raise ReconcileError(f"cannot assume {role_arn}: no AWS credentials to assume it with")

        def sts_client(service: str, **credentials: Any) -> Any:
            return core.create_client(
                service,
                region_name=self.region,
                endpoint_url=self.settings.endpoint_url,
                config=self._config,
                **credentials,
            )

        extra: dict[str, Any] = {"RoleSessionName": self.settings.role_session_name}
        if self.settings.role_external_id:
            extra["ExternalId"] = self.settings.role_external_id
        fetcher = AssumeRoleCredentialFetcher(
            client_creator=sts_client,
            source_credentials=source,
            role_arn=role_arn,
            extra_args=extra,
        )
        # set_credentials() takes static keys only; refreshable ones go where botocore's own
        # credential resolver puts them.
        core._credentials = DeferredRefreshableCredentials(  # type: ignore[attr-defined]
            refresh_using=fetcher.fetch_credentials, method="assume-role"
        )

    @property
    def events(self) -> BaseEventHooks:
        """The session's event emitter: a handler registered here sees every call of every client
        of this context (botocore's events, e.g. "before-send.*.*")."""
        emitter: BaseEventHooks = self._session.get_component("event_emitter")
        return emitter

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Compute once per run (thread-safe): e.g. the one owner-tag sweep every kind shares."""
        with self._lock:
            lock = self._memo_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]  # type: ignore[no-any-return]

    def forget_all(self) -> None:
        """Drop every memoized read (before planning again, e.g. once the apply lock is held)."""
        with self._lock:
            self._memo.clear()

    def forget(self, key: str) -> None:
        with self._lock:
            self._memo.pop(key, None)

    def client(self, service: str) -> Any:
        """The run's one client of `service`. Clients of different services are made side by side
        (a lock per service), so a thread that needs a ready client, or another service's, never
        waits for one being made (~30 ms of CPU each, 17 in a plan). The first client is made
        alone: it instantiates the session's lazy parts (credentials, endpoint resolver, model
        loader), the step botocore's maintainers warn is not thread-safe (boto/botocore#2985)."""
        client = self._clients.get(service)
        if client is not None:
            return client
        with self._lock:
            lock = self._client_locks.setdefault(service, threading.Lock())
            first = not self._clients
            if first:
                return self._make_client(service)
        with lock:
            return self._clients.get(service) or self._make_client(service)

    def _make_client(self, service: str) -> Any:
        client = self._new_client(self._session, service)
        self._clients[service] = client
        return client

    def _new_client(self, session: BotocoreSession, service: str) -> Any:
        client = session.create_client(
            service, region_name=self.region, endpoint_url=self.settings.endpoint_url, config=self._config
        )
        if self.settings.retry_mode == "standard":
            # botocore counts max_attempts as retries: the first attempt comes on top
            retry_policy.install(client, self.settings.max_attempts + 1, self._rate_limits)
        return client

    def _left_out(self, client: Any, event_name: str, **_: Any) -> Any:
        """An operation the tool's clients are not made with (aws_operations; botocore asks this
        handler for any attribute a client lacks): the method of a client made from the whole API
        model, in a session that shares this one's credentials and event handlers. Nothing of the
        tool's own calls comes here (tests/test_aws_operations.py): code that calls more (a test's
        setup, a library caller) pays for the whole model once a context."""
        from .aws_operations import OPERATIONS

        service = client.meta.service_model.service_name
        if service not in OPERATIONS:  # its model is whole already
            return None
        with self._whole_model_lock:  # not the context's lock: reads keep using memo meanwhile
            whole = self._whole_model_clients.get(service)
            if whole is None:
                if self._whole_model_session is None:
                    session = _botocore_session(self.settings, whole_models=True, events=self.events)
                    session._credentials = self._session.get_credentials()  # type: ignore[attr-defined]
                    self._whole_model_session = session
                whole = self._new_client(self._whole_model_session, service)
                self._whole_model_clients[service] = whole
        name = event_name.rsplit(".", 1)[-1]
        if client is whole or name not in whole.meta.method_to_api_mapping:
            return None  # no such operation: botocore raises its AttributeError
        return getattr(whole, name)

    @property
    def account_id(self) -> str:
        """The credentials' account, asked of STS once per context: reads running side by side
        (several kinds build ARNs) wait for the one GetCallerIdentity instead of each making one."""
        if self._account_id is None:
            self._account_id = self.memo(
                "sts:account-id", lambda: str(self.client("sts").get_caller_identity()["Account"])
            )
        return self._account_id

    @property
    def partition(self) -> str:
        return "aws-cn" if self.region.startswith("cn-") else "aws"

    # botocore event handlers ------------------------------------------------------------------
    def _on_before_call(self, model: Any, **_: Any) -> None:
        self.stats.record_call(f"{model.service_model.service_name}.{model.name}")
        self._call_started.value = time.perf_counter()

    def _on_before_send(self, request: Any, **_: Any) -> None:
        name = request.context.get("operation_name", "?") if hasattr(request, "context") else "?"
        self.stats.record_attempt(name)

    def _on_needs_retry(
        self,
        attempts: int,
        caught_exception: BaseException | None = None,
        request_dict: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        """A connection failure: say so while retrying, and give up after CONNECT_ATTEMPTS (raising
        here ends botocore's retry loop with the connection error itself, endpoint named)."""
        from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

        # No connection made at all (a closed port, no route, no answer): not a connection that
        # broke mid-call (ConnectionClosedError), which botocore keeps retrying as before.
        if not isinstance(caught_exception, EndpointConnectionError | ConnectTimeoutError):
            return None  # botocore's own retry handler decides
        limit = min(CONNECT_ATTEMPTS, self.settings.max_attempts)
        if attempts >= limit:
            raise caught_exception
        url = str((request_dict or {}).get("url", "")).split("?", 1)[0]
        host = url.split("/")[2] if url.count("/") >= 2 else url
        with self._lock:
            first = (host, attempts) not in self._reported
            self._reported.add((host, attempts))
        if first:  # parallel reads fail together: one line per attempt, not one per call
            self.report(f"cannot reach {host}: {caught_exception}; retrying ({attempts + 1}/{limit})...")
        return None

    def _on_after_call(
        self, model: Any = None, http_response: Any = None, exception: BaseException | None = None, **_: Any
    ) -> None:
        started = getattr(self._call_started, "value", None)
        if started is not None:
            elapsed = time.perf_counter() - started
            self.stats.record_time(elapsed)
            self._call_started.value = None
            if self.trace is not None and model is not None:
                status = getattr(http_response, "status_code", None)
                outcome = type(exception).__name__ if exception is not None else f"HTTP {status}"
                self.trace(f"aws {model.service_model.service_name}.{model.name}: {outcome}, {elapsed:.2f}s")
