"""This process's resident memory, now and at its peak, with the peak reset before a measurement."""

from __future__ import annotations

import gc
import os
import resource

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_now() -> int:
    """Resident set size in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


def peak_rss() -> int:
    """The highest resident set size since the process started, or since :func:`start_peak`."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def start_peak() -> int:
    """Collect garbage, reset the peak to the current size (Linux ``clear_refs``), and return that size.

    Without the reset, a peak reached while importing would hide the growth measured next.
    """
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass  # the peak then includes start-up: a growth measured against it can only look larger
    return rss_now()
