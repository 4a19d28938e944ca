"""Benchmarks (`make bench`, `python -m bench.<name>`).

Every `python -m bench.<name>` imports this package first, so the OpenMP wait policy of the
entry points (fmri_rdm.runtime.threads) is set here, before any benchmark imports torch.
"""

from fmri_rdm.runtime.threads import set_passive_wait_policy

set_passive_wait_policy()
