"""modelops_registry."""
