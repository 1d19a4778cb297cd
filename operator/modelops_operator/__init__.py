"""modelops_operator."""
