"""numba kernels, compiled once and cached on disk where numba can write a cache.

numba keeps compiled machine code in `__pycache__` beside the module (as Python's bytecode),
else in the user's cache folder, or in `NUMBA_CACHE_DIR`; later processes load it in about
0.3 s instead of compiling (1-2 s per module). Where none of those can be written (a
read-only install and home, some containers), `cache=True` makes numba raise at import; the
kernels then compile in every process instead, which the log says once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numba

log = logging.getLogger(__name__)
_SAID = [False]


def compiled(fn: Callable[..., Any]) -> Any:
    """numba.njit(nogil=True, cache=True) of fn, without the disk cache where numba finds no
    place to write it. nogil: the kernels run on threads of one process."""
    try:
        return numba.njit(nogil=True, cache=True)(fn)
    except RuntimeError as err:  # numba: "cannot cache function ...: no locator available"
        if not _SAID[0]:
            _SAID[0] = True
            log.info("numba kernels compile in every process (no cache folder to write): %s", err)
        return numba.njit(nogil=True)(fn)
