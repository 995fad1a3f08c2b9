"""One module per AWS service; each registers its kinds (spec model + reconciler side by side)."""
