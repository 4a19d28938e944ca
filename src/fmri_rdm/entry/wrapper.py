"""What every entry point shares (train.py, predict.py): a user error is one line and exit 2.

A user error is anything the user can fix from the command line or on disk: our own
`FmriRdmError`s (also when Hydra's `instantiate` wraps them), Hydra's composition errors (an
override typo, an unknown option), OmegaConf's (a value of the wrong type, a missing
mandatory value) and a failed write of the outputs (a full disk, a read-only or unwritable
folder, a file in a folder's place: `disk_error`; the writers name the path, see
`runtime.artifacts.writing`). Each ends the program with one line `error: ...` on stderr and
exit status 2; `HYDRA_FULL_ERROR=1` adds the traceback. Anything else is a bug and keeps its
traceback.

Hydra's and OmegaConf's messages are shown on one line, led by a "did you mean" computed from
the exceptions' structured attributes (the options of a group, the keys of the node a misspelt
key was looked up in; case is ignored, `roi=ffa-1` finds `FFA-1`), never from their message
text. Two parts of Hydra's wording are dropped: the config search path, and the advice to
append a misspelt key with `+` (the learner's schema would reject it a few seconds later).
"""

from __future__ import annotations

import difflib
import errno
import os
import re
import sys
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

from hydra.errors import HydraException, InstantiationException, MissingConfigException
from omegaconf import DictConfig
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    InterpolationResolutionError,
    MissingMandatoryValue,
    OmegaConfBaseException,
)

from fmri_rdm.errors import FmriRdmError, one_line

# The user's own HYDRA_FULL_ERROR, remembered by `hydra_main` (which sets Hydra's to 1 so that
# Hydra re-raises its errors for us to report) and inherited by launcher subprocesses.
USER_FULL_ERROR = "FMRI_RDM_FULL_ERROR"
EXIT_USER_ERROR = 2
BUG_MARK = "fmri_rdm_bug"  # set on an exception a run re-raised as a bug: never a user error


def full_error_requested() -> bool:
    """Whether the user asked for tracebacks with HYDRA_FULL_ERROR=1."""
    value = os.environ.get(USER_FULL_ERROR)
    if value is None:
        value = os.environ.get("HYDRA_FULL_ERROR", "")
    return value.strip() == "1"


def _cause_of_type(err: BaseException, kind: type[BaseException]) -> BaseException | None:
    """`err` or the first exception of `kind` in its chain of explicit causes."""
    seen: set[int] = set()
    node: BaseException | None = err
    while node is not None and id(node) not in seen:
        if isinstance(node, kind):
            return node
        seen.add(id(node))
        node = node.__cause__
    return None


def closest(word: str, choices: list[str]) -> str | None:
    """The choice closest to `word`, ignoring case (`roi=ffa-1` -> `FFA-1`); None if none is
    close."""
    by_lower: dict[str, str] = {}
    for choice in choices:
        by_lower.setdefault(choice.lower(), choice)
    if word.lower() in by_lower:
        return by_lower[word.lower()]
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return by_lower[close[0]] if close else None


_HYDRA_SEARCH_PATH = re.compile(r"\s*Config search path:.*$")


def _missing_option(err: MissingConfigException) -> str:
    """`group=option: did you mean 'x'? <Hydra's message without its search path>`."""
    group, _, option = str(err.missing_cfg_file).rpartition("/")
    message = _HYDRA_SEARCH_PATH.sub("", one_line(err))
    close = closest(option, [str(o) for o in err.options or []])
    head = f"{group}={option}: did you mean {close!r}? " if close else f"{group}={option}: "
    return head + message + _FOLDER_KEYS.get(group, "")


# `roi=hIT` / `subject=sub-BE` are the Algonauts groups; folder data names its own
_FOLDER_KEYS = {
    "roi": " (these are the Algonauts ROIs; on folder data give data.roi=<roi>: "
    "`fmri-rdm data ROOT` lists them)",
    "subject": " (these are the Algonauts subjects; on folder data give "
    "data.subject=<subject folder>: `fmri-rdm data ROOT` lists them)",
}


def _unknown_key(cause: ConfigAttributeError | ConfigKeyError) -> str:
    """`model.dropuot: did you mean 'model.net.dropout'? ...`: the closest key of the node it
    was looked up in (a model's network settings one level down, under `net`). Hydra's advice
    to append the key with `+` is left out: the learner's schema would reject it later."""
    node = cause.parent_node
    full_key = str(cause.full_key or cause.key)
    parent = full_key.rpartition(".")[0]
    prefix = f"{parent}." if parent else ""
    keys = {str(k): f"{prefix}{k!s}" for k in node.keys()} if node is not None else {}
    nested = node.get("net") if node is not None else None
    if isinstance(nested, DictConfig):
        keys |= {str(k): f"{prefix}net.{k!s}" for k in nested.keys() if str(k) not in keys}
    close = closest(str(cause.key), list(keys))
    where = f"'{parent}'" if parent else "the config"
    if close is not None:
        return f"{full_key}: did you mean {keys[close]!r}? {where} has no key {cause.key!r}"
    shown = ", ".join(sorted(keys)[:15]) + (", ..." if len(keys) > 15 else "")
    return f"{full_key}: {where} has no key {cause.key!r}; its keys: {shown}"


def _config_error(err: BaseException, running: bool) -> str | None:
    """Hydra's / OmegaConf's message, led by a suggestion where one is found; None when `err`
    is not a config error.

    While the experiment runs (`running`), only the config's own faults count (a missing
    mandatory value, an unresolvable interpolation, an object it cannot build): a missing key
    or a type error there comes from our code, a bug."""
    if not isinstance(err, HydraException | OmegaConfBaseException):
        return None
    cause = err.__cause__
    if isinstance(err, InstantiationException):
        # a _target_ that does not import, or arguments the class rejects; a failure inside
        # the constructor itself is a bug
        user_fault = isinstance(cause, ImportError | TypeError) or (
            type(cause).__name__ == "MisconfigurationException"
        )
        if not user_fault:
            return None
    elif running and not isinstance(
        cause if isinstance(err, HydraException) else err,
        MissingMandatoryValue | InterpolationResolutionError,
    ):
        return None
    if isinstance(err, MissingConfigException) and err.options and err.missing_cfg_file:
        return _missing_option(err)
    own = err if isinstance(err, OmegaConfBaseException) else cause
    if isinstance(own, ConfigAttributeError | ConfigKeyError) and own.key is not None:
        return _unknown_key(own)
    message = _HYDRA_SEARCH_PATH.sub("", one_line(err))
    if cause is not None and one_line(cause) not in message:  # Hydra's wrapper may quote it
        message += f": {one_line(cause)}"
    return message


# what the user fixes on disk: space, permissions, a file where a folder should be
_DISK_HINTS = {
    errno.ENOSPC: "free some space or write elsewhere (hydra.run.dir=..., paths.cache_dir=...)",
    errno.EDQUOT: "free some space or write elsewhere (hydra.run.dir=..., paths.cache_dir=...)",
    errno.EROFS: "write elsewhere (hydra.run.dir=..., or run from a writable folder)",
    errno.EACCES: "check the permissions, or write elsewhere (hydra.run.dir=...)",
    errno.EPERM: "check the permissions, or write elsewhere (hydra.run.dir=...)",
    errno.ENOTDIR: "a file stands where a folder is needed",
    errno.EEXIST: "a file stands where a folder is needed",
}


def disk_error(err: BaseException) -> str | None:
    """One line naming the path and the cause of a failed write (a full disk, a read-only or
    unwritable folder, a file in a folder's place): an OSError with a file name and one of
    those errno values, itself or as an explicit cause; None otherwise."""
    found = _cause_of_type(err, OSError)
    if not isinstance(found, OSError) or found.filename is None:
        return None
    if found.errno not in _DISK_HINTS:
        return None
    cause = found.strerror or os.strerror(found.errno)
    return f"{cause}: {found.filename} ({_DISK_HINTS[found.errno]})"


def user_error(err: BaseException, running: bool = False) -> tuple[str, str] | None:
    """(kind, one-line message) when `err` is a user error, None when it is a bug.

    Our own errors are found inside Hydra's InstantiationException wrapping too. `running`:
    raised by the experiment itself, not while Hydra composed the config.
    """
    if getattr(err, BUG_MARK, False):
        return None
    ours = _cause_of_type(err, FmriRdmError)
    if ours is not None:
        return type(ours).__name__, one_line(ours)
    disk = disk_error(err)
    if disk is not None:
        return "OSError", one_line(disk)
    message = _config_error(err, running)
    return None if message is None else ("ConfigError", message)


def report_and_exit(kind_and_message: tuple[str, str]) -> NoReturn:
    """Print the one line and exit with status 2."""
    print(f"error: {kind_and_message[1]}", file=sys.stderr)
    sys.exit(EXIT_USER_ERROR)


def exit_status(main: Callable[[], Any], running: bool = False) -> int:
    """Call an entry point's body: 0 when it returns, or, for a user error, print one line
    `error: ...` on stderr (with the traceback if HYDRA_FULL_ERROR=1) and return 2. Bugs and
    `SystemExit` (an interrupted run's own status) propagate. `running`: the body works on a
    config already checked, so only the config's own faults are user errors (`user_error`)."""
    try:
        main()
    except Exception as err:
        found = user_error(err, running)
        if found is None:
            raise
        if full_error_requested():
            traceback.print_exc()
        print(f"error: {found[1]}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


def hydra_main(main: Callable[[], Any]) -> None:
    """Call a `@hydra.main` function; Hydra's own errors (override typos, unknown options, bad
    values) become one line and exit status 2 like ours, instead of Hydra's several lines and
    status 1. Used as `if __name__ == "__main__": hydra_main(main)`."""
    os.environ[USER_FULL_ERROR] = "1" if full_error_requested() else "0"
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra re-raises instead of printing
    status = exit_status(main)
    if status:
        sys.exit(status)
