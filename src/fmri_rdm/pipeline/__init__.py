"""One run of an experiment: its settings, inputs, folds, fit/score loop, task and outputs."""
