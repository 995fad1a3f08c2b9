"""pacs-reconcile: keeps the PACS monitoring stack on AWS exactly as declared."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str


def __getattr__(name: str) -> Any:
    """`__version__`, the installed distribution's version (written once, in pyproject.toml), read
    on first use: importlib.metadata costs a tenth of a second at start-up, which `--help`,
    `validate` and `plan` do not need."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import metadata

    try:
        version = metadata.version("pacs-reconcile")
    except metadata.PackageNotFoundError:  # a source tree on sys.path that was never installed
        version = "0+unknown"
    globals()["__version__"] = version
    return version


OWNER_TAG = "pacs-reconcile:stack"
"""The tag written on every taggable resource this tool manages; its value is the stack name."""

TAG_PREFIX = "pacs-reconcile:"
"""Tags under this prefix are the tool's own bookkeeping; users may not set them."""

FINGERPRINT_TAG = "pacs-reconcile:fingerprint"
"""A digest of the spec a resource (with its children) was last applied from: lets `drift` tell
changes made in AWS (fingerprint matches the spec) from spec edits not yet applied (it does not)."""
