"""The pure pipeline: reconcile(spec, observed, now) -> Plan."""
