"""pacs-reconcile: keeps the PACS monitoring stack on AWS exactly as declared."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("pacs-reconcile")
    """The installed distribution's version: written once, in pyproject.toml."""
except _metadata.PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"

OWNER_TAG = "pacs-reconcile:stack"
"""The tag written on every taggable resource this tool manages; its value is the stack name."""

TAG_PREFIX = "pacs-reconcile:"
"""Tags under this prefix are the tool's own bookkeeping; users may not set them."""

FINGERPRINT_TAG = "pacs-reconcile:fingerprint"
"""A digest of the spec a resource (with its children) was last applied from: lets `drift` tell
changes made in AWS (fingerprint matches the spec) from spec edits not yet applied (it does not)."""
