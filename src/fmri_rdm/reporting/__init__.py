"""What a run tells people: the metrics.json contract, loggers, and comparisons across runs."""
