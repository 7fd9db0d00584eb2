"""Checks of task inputs, run after templates render and before any request is sent.

Light (``airflow.sdk``, the standard library and the provider's exceptions): operators, sensors
and triggers may all use it. Each check names the parameter and says what is wrong with the value.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from vobiz_provider.exceptions import VobizConfigError
from vobiz_provider.version_compat import AirflowFailException

# What Jinja makes of a None (or a missing value rendered by a lenient template): never a real name.
_RENDERED_NONE = "None"


def _refuse_undefined(value: Any, param: str) -> None:
    """A DAG rendering templates as native objects hands over Jinja's Undefined for a missing name."""
    from jinja2 import Undefined  # Airflow's templating dependency; only needed when a task runs

    if isinstance(value, Undefined):
        why = getattr(value, "_undefined_message", "") or "undefined"
        raise VobizConfigError(f"{param} rendered to an undefined value: {why}")


def require_name(value: Any, param: str) -> str:
    """Return ``value`` if it is a usable name: a string with something other than whitespace.

    The string ``"None"`` is refused too: it is what ``{{ params.x }}`` renders for a null value.

    :param value: the rendered value.
    :param param: the parameter's name, for the message.
    :raises VobizConfigError: naming ``param`` and the value's problem.
    """
    if value is None:
        raise VobizConfigError(f"{param} is None; it must name something (did a template render a missing value?)")
    _refuse_undefined(value, param)
    if not isinstance(value, str):
        raise VobizConfigError(f"{param} must be a string, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise VobizConfigError(f"{param} must not be empty or only whitespace, got {value!r}")
    if value.strip() == _RENDERED_NONE:
        raise VobizConfigError(f"{param} rendered to {value!r}: a template turned a null or missing value into text")
    return value


def require_choice(value: Any, param: str, choices: Collection[str]) -> str:
    """Return ``value`` if it is one of ``choices`` (exactly, case included).

    :raises VobizConfigError: naming ``param``, the value and the choices.
    """
    _refuse_undefined(value, param)
    if not isinstance(value, str) or value not in choices:
        raise VobizConfigError(f"{param} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def require_http_url(value: Any, param: str, *, optional: bool = False) -> str | None:
    """Return ``value`` if it is an absolute ``http``/``https`` URL with a host.

    :param optional: accept None or an empty string, returned as None.
    :raises VobizConfigError: naming ``param`` and the value's problem.
    """
    _refuse_undefined(value, param)
    if optional and (value is None or value == ""):
        return None
    if not isinstance(value, str):
        raise VobizConfigError(f"{param} must be an http(s) URL string, got {type(value).__name__} {value!r}")
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as err:
        raise VobizConfigError(f"{param} is not a valid URL: {value!r} ({err})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise VobizConfigError(f"{param} must be an http or https URL, got {value!r}")
    if not parts.hostname:
        raise VobizConfigError(f"{param} must name a host, got {value!r}")
    return value.strip()


def parse_mapping_text(text: str, param: str) -> Any:
    """A dict rendered as text: JSON, or Python's repr (what a template renders when native rendering is off).

    :raises VobizConfigError: naming ``param`` when the text is neither.
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise VobizConfigError(
            f"{param} looks like a dict but is neither JSON nor a Python literal: {text[:80]!r}"
        ) from None


@contextmanager
def invalid_input_fails_task() -> Iterator[None]:
    """Turn a :class:`VobizConfigError` into :class:`AirflowFailException`: retrying cannot fix bad input."""
    try:
        yield
    except VobizConfigError as err:
        raise AirflowFailException(str(err)) from err
