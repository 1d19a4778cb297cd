"""Rollouts (pure): the canary state machine, its analysis verdicts and traffic routers."""
