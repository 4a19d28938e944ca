"""Fixed base predictions a pair network corrects: the RDM-only priors (rsa, frrsa: `pattern`),
the encoding model's RDM (`ridge_rdm`), their fitting on a fold, and the choice between the
prior alone and the fit."""
