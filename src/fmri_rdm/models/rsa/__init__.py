"""Classical RSA: the embedding RDM as the prediction (nothing to fit)."""
