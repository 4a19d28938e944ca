"""The SVM on pair features: its learner, the classifier and its Nystroem kernel solver."""

from typing import Any


def __getattr__(name: str) -> Any:
    # joblib files written before the design pass pickled the classifier as
    # `fmri_rdm.models.svm.SVMPairClassifier` (then a module): unpickling looks it up here
    if name == "SVMPairClassifier":
        from fmri_rdm.models.svm.classifier import SVMPairClassifier

        return SVMPairClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
