"""Candidate RDMs as models (`model=rdm`, `model=weighted`): hypothesis RDMs of a data folder's
`models/`, categorical RDMs of stimulus labels and the embedding RDM, fixed or combined with
non-negative weights per fold (`loading.py`, `learner.py`; the maths in `rsa/weighting.py` and
`rsa/partition.py`)."""
