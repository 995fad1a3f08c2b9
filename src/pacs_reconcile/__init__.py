"""pacs-reconcile: keeps the PACS monitoring stack on AWS exactly as declared."""

__version__ = "0.1.0"

OWNER_TAG = "pacs-reconcile:stack"
"""The tag written on every taggable resource this tool manages; its value is the stack name."""
