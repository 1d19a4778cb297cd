"""The ModelDeployment API as the operator reads and writes it: names, durations, conditions (pure)."""
