"""``[core] hostname_callable`` for the suite's components: a name per process, so a task
instance's ``hostname`` and a trigger's triggerer say which worker or triggerer ran it.

Imported by Airflow in every component (``AIRFLOW__CORE__HOSTNAME_CALLABLE``): stdlib only.
"""

from __future__ import annotations

import os
import socket


def component_hostname() -> str:
    """``E2E_HOSTNAME`` when the suite set one for this process, the machine's name otherwise."""
    return os.environ.get("E2E_HOSTNAME") or socket.getfqdn()
