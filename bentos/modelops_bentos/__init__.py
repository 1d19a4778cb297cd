"""modelops_bentos."""
