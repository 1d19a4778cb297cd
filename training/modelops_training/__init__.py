"""modelops_training."""
