"""Batch scoring on the cluster (pure): the Indexed Job, its CronJob, when a run starts and how it ended."""
