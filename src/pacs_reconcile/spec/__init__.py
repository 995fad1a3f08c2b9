"""The spec language: YAML with locations, includes, variables, overlays, references, validation."""
