"""Run the reference FR-RSA package once on a small problem; store its inputs and outputs.

Reference: github.com/ViCCo-Group/frrsa at commit af6724f, used from its source tree
(`pip install --no-deps` of it fails to build here; PYTHONPATH to the source works), run with
the project's venv (scikit-learn 1.9, scipy 1.x). Not part of the test suite (it needs the
reference); tests/models/frrsa/test_frrsa_reference.py reads frrsa_reference.npz.

Two workarounds for today's libraries, both outside the reference's numerics:
1. `Ridge(positive=True)` (lbfgs) now returns 1-D predictions for a (n, 1) target, which the
   reference assigns into (n, 1) slices: predictions are reshaped to 2-D.
2. its scoring slices (n, H, 1) predictions to (n, 1) columns, which scipy's pearsonr no longer
   flattens: the single target axis is squeezed first.

    PYTHONPATH=/path/to/frrsa python tests/models/frrsa/data/make_frrsa_reference.py
"""

import numpy as np
import sklearn.linear_model
from frrsa.fitting import fitting
from frrsa.fitting.crossvalidation import fit_and_score
from scipy.spatial.distance import pdist, squareform
from sklearn.preprocessing import StandardScaler, normalize


class Ridge2D(sklearn.linear_model.Ridge):
    """Workaround: with positive=True current sklearn returns 1-D predictions for a (n, 1) y;
    the reference assigns them into (n, 1) slices."""

    def predict(self, X):
        out = super().predict(X)
        return out.reshape(len(X), -1) if out.ndim == 1 else out


fitting.Ridge = Ridge2D
from frrsa.fitting import crossvalidation as cvmod  # noqa: E402

_scoring = cvmod.scoring


def scoring_2d(y_true, y_pred, score_type):
    """Workaround 2: the positive branch returns (n, H, 1); current scipy's pearsonr no longer
    flattens the (n, 1) column it then slices, so squeeze the single target first."""
    if y_pred.ndim == 3 and y_pred.shape[2] == 1:
        y_pred = y_pred[:, :, 0]
    return _scoring(y_true, y_pred, score_type=score_type)


cvmod.scoring = scoring_2d

rng = np.random.default_rng(7)
n, d = 30, 6
x = rng.normal(size=(n, d))  # images x dims
resp = x @ rng.normal(size=(d, 12)) * rng.random(12) + 0.7 * rng.normal(size=(n, 12))
perm = rng.permutation(n)
train, test = np.sort(perm[:22]), np.sort(perm[22:])
out = {"x": x, "responses": resp, "train": train, "test": test}
fr = np.linspace(0.05, 1, 20)
al = np.array([1e-1, 1e0, 1e1, 5e1, 1e2, 5e2, 1e3, 4e3, 7e3, 1e4, 3e4, 5e4, 7e4, 1e5])
for metric, dist in (("correlation", "correlation"), ("euclidean", "euclidean")):
    target = squareform(pdist(resp, dist))
    if metric == "correlation":
        pred = StandardScaler().fit_transform(
            x.T.copy()
        )  # predictor (dims, images), z-score per image
        meas_f, tgt_f = ["dot", "pearson_dis"], target
        meas_p, tgt_p = ["dot", "pearson_sim"], 1.0 - target
    else:
        pred = normalize(x.T.copy(), norm="l2", axis=0)
        meas_f, tgt_f = ["sqeuclidean", "euclidean"], target
        meas_p, tgt_p = meas_f, target
    s, *_, yp, yt = fit_and_score(pred, tgt_f, train, test, "pearson", fr, meas_f, "in", False, 0)
    out[f"{metric}_target"] = np.ravel(yt)
    out[f"{metric}_fractional_pred"] = yp.reshape(len(yp), -1)
    out[f"{metric}_fractional_score"] = np.ravel(s)
    s, *_, yp, yt = fit_and_score(pred, tgt_p, train, test, "pearson", al, meas_p, "in", True, 0)
    if metric == "correlation":
        yp = 1.0 - yp
    out[f"{metric}_positive_pred"] = yp.reshape(len(yp), -1)
    out[f"{metric}_positive_score"] = np.ravel(s)
    # the reference's fraction -> alpha map on the z-scored training features
    from frrsa.fitting.crossvalidation import compute_predictor_distance
    from frrsa.fitting.fitting import prepare_variables
    from frrsa.fitting.fracridge import fracridge
    from frrsa.helper.classical_RSA import flatten_matrix

    xtr, *_ = compute_predictor_distance(pred, train, meas_f[0])
    xz, _, _, yc, _ = prepare_variables(xtr, flatten_matrix(tgt_f[np.ix_(train, train)]))
    out[f"{metric}_fractional_alphas"] = np.ravel(fracridge(xz, yc, fracs=fr, pred_wanted=False)[2])
np.savez(__file__.replace("make_frrsa_reference.py", "frrsa_reference.npz"), **out)
print({k: v.shape for k, v in out.items()})
