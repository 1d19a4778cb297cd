"""modelops_cli."""
