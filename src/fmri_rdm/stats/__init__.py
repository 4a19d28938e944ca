"""Statistics a reviewer asks for: stimulus-bootstrap intervals, permutation p-values, paired
comparisons of runs and the inter-subject noise ceiling."""
