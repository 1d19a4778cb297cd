"""Drift of the stable track (pure): from bucket counts to a verdict, status and condition."""
