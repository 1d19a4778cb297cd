"""modelops_features: the single home of feature logic, validation and drift maths."""

__version__ = "0.1.0"
