"""Retraining (pure): when a Job starts, the Job itself, and how its outcome reads."""
