"""The RSA core: RDMs, pair selection, image-disjoint splits and the scores of predicted pairs.

Pure numpy/scipy functions on index arrays; nothing here knows configs, learners or files.
"""
