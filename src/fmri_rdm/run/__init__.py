"""One run of an experiment: its inputs, folds, fit/score loop, task and metrics.json."""
