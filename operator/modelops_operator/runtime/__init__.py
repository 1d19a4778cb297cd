"""The running operator: engine, kopf handlers, resync, requeue, leader election, metrics."""
