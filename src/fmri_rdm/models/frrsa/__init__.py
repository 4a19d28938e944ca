"""Feature-reweighted RSA: its learner and its ridge numerics."""
