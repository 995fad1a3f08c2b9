"""What -v and -vv show on stderr.

-v   each phase of the run with its time ("reading AWS and planning: 1.84s, 57 AWS calls") and each
     AWS call as it completes (service.Operation, outcome, seconds);
-vv  also botocore's wire log (its DEBUG logging: requests, headers, bodies, responses), every
     credential and known secret value masked. `--debug` is the same as -vv.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .redact import MASK, Redactor

PHASES = 1
"""The verbosity that shows phases and AWS calls."""
WIRE = 2
"""The verbosity that shows botocore's wire log."""
WIRE_LOGGERS = ("botocore", "boto3", "urllib3")
_OURS = "pacs_reconcile_wire_log"

_CREDENTIALS = (
    # Authorization: AWS4-HMAC-SHA256 Credential=AKIA.../20250101/..., SignedHeaders=..., Signature=...
    re.compile(r"(?i)(['\"]?authorization['\"]?\s*[:=]\s*b?['\"]?)[^'\"\r\n]+"),
    re.compile(r"(?i)(['\"]?x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,}]+"),
    re.compile(
        r"(?i)((?:aws_)?(?:secret_access_key|session_token|SecretAccessKey|SessionToken)['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}<]+"
    ),
    re.compile(r"(?i)(<(?:SecretAccessKey|SessionToken)>)[^<]+"),
    re.compile(r"(X-Amz-Signature=|Signature=)[0-9a-f]+"),
    re.compile(r"(X-Amz-Credential=|Credential=)[^/&,\s]+"),
)


def mask_credentials(text: str) -> str:
    """`text` with request signatures, access keys and session tokens replaced by the mask."""
    for pattern in _CREDENTIALS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class _Masking(logging.Filter):
    """Masks credentials and the run's secrets in each record before it is written."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = mask_credentials(self.redactor.text(record.getMessage()))
        record.msg, record.args = message, None
        return True


def enable_wire_log(redactor: Redactor) -> logging.Handler:
    """botocore's DEBUG log on stderr, masked. The redactor learns the spec's secrets once it is
    loaded: the filter reads them when each record is written."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(_Masking(redactor))
    levels: dict[str, int] = {}
    for name in WIRE_LOGGERS:
        logger = logging.getLogger(name)
        levels[name] = logger.level
        for old in [h for h in logger.handlers if getattr(h, _OURS, None) is not None]:
            levels[name] = getattr(old, _OURS)[name]  # the level from before any run of ours
            logger.removeHandler(old)  # one run at a time writes the log (in-process runs, tests)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    setattr(handler, _OURS, levels)
    return handler


def disable_wire_log() -> None:
    """Undo enable_wire_log once the command is done: an in-process run (tests, a program calling
    the CLI or the API after it) leaves the loggers as it found them, not printing DEBUG to stderr."""
    for name in WIRE_LOGGERS:
        logger = logging.getLogger(name)
        for ours in [h for h in logger.handlers if getattr(h, _OURS, None) is not None]:
            logger.removeHandler(ours)
            logger.setLevel(getattr(ours, _OURS)[name])


@contextmanager
def timed_phase(
    say: Callable[[str], None], name: str, calls: Callable[[], int] | None = None
) -> Iterator[None]:
    """Say when a phase starts and how long it took (and how many AWS calls it made)."""
    started = time.perf_counter()
    before = calls() if calls else 0
    say(f"{name}...")
    try:
        yield
    finally:
        extra = f", {calls() - before} AWS calls" if calls else ""
        say(f"{name}: {time.perf_counter() - started:.2f}s{extra}")
