"""The audit trail: who did what and who read whose data, hash-chained."""
