"""The shared input checks: each names the parameter and the value's problem."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import Environment, StrictUndefined

from vobiz_provider.exceptions import VobizConfigError
from vobiz_provider.validation import (
    invalid_input_fails_task,
    require_choice,
    require_http_url,
    require_name,
)
from vobiz_provider.version_compat import AirflowFailException


@pytest.mark.parametrize("name", ["Daily Standup", "Q3 Review/EMEA #1", " padded ", "None of us"])
def test_require_name_keeps_a_name_exactly(name: str) -> None:
    assert require_name(name, "conference_name") == name


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (None, "room is None"),
        ("", "room must not be empty or only whitespace, got ''"),
        (" \n", "room must not be empty or only whitespace, got ' \\n'"),
        ("None", "room rendered to 'None'"),
        (42, "room must be a string, got int 42"),
        (["a"], "room must be a string, got list ['a']"),
    ],
)
def test_require_name_refuses(value: Any, said: str) -> None:
    with pytest.raises(VobizConfigError) as caught:
        require_name(value, "room")
    assert said in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_an_undefined_template_value_is_named() -> None:
    undefined = Environment(undefined=StrictUndefined).from_string("{{ x }}").new_context().resolve("x")
    for check in (
        lambda: require_name(undefined, "room"),
        lambda: require_choice(undefined, "fmt", ("a",)),
        lambda: require_http_url(undefined, "hook", optional=True),
    ):
        with pytest.raises(VobizConfigError, match="rendered to an undefined value: 'x' is undefined"):
            check()


def test_require_choice() -> None:
    assert require_choice("wav", "file_format", ("mp3", "wav")) == "wav"
    with pytest.raises(VobizConfigError, match="file_format must be one of 'mp3', 'wav', got 'Wav'"):
        require_choice("Wav", "file_format", ("mp3", "wav"))
    with pytest.raises(VobizConfigError, match="file_format must be one of 'mp3', 'wav', got None"):
        require_choice(None, "file_format", ("mp3", "wav"))


@pytest.mark.parametrize("url", ["https://hooks.example.com/v?x=1", "http://127.0.0.1:8080/", "HTTPS://A.example"])
def test_require_http_url_accepts(url: str) -> None:
    assert require_http_url(url, "callback_url") == url


def test_require_http_url_optional() -> None:
    assert require_http_url(None, "callback_url", optional=True) is None
    assert require_http_url("", "callback_url", optional=True) is None
    with pytest.raises(VobizConfigError, match="callback_url must be an http"):
        require_http_url(None, "callback_url")


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("ftp://example.com/f", "must be an http or https URL"),
        ("example.com/hook", "must be an http or https URL"),
        ("javascript:alert(1)", "must be an http or https URL"),
        ("https://", "must name a host"),
        ("http://example.com:99999/", "is not a valid URL"),
        ("http://[::1/", "is not a valid URL"),
    ],
)
def test_require_http_url_refuses(url: str, said: str) -> None:
    with pytest.raises(VobizConfigError) as caught:
        require_http_url(url, "callback_url")
    assert str(caught.value).startswith("callback_url ") and said in str(caught.value)
    assert repr(url) in str(caught.value)


def test_invalid_input_fails_the_task_without_retries() -> None:
    with pytest.raises(AirflowFailException, match="room is None") as caught, invalid_input_fails_task():
        require_name(None, "room")
    assert isinstance(caught.value.__cause__, VobizConfigError)
    with invalid_input_fails_task():
        pass  # good input passes through untouched
