"""Bad inputs fail the stop and start tasks with a message naming the parameter, before any request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import recording_scenarios as scenarios
from recording_scenarios import run_scenario

from vobiz_provider.version_compat import AIRFLOW_V_3_2_PLUS

pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("", "conference_name must not be empty or only whitespace, got ''"),
        ("   \t", "conference_name must not be empty or only whitespace, got '   \\t'"),
        # What ``{{ params.conference_name }}`` renders for a None param.
        (None, "conference_name rendered to 'None'"),
    ],
)
def test_stop_rejects_a_blank_or_null_room(
    vobiz_fake: Any, task_log: Callable[[], str], name: str | None, said: str
) -> None:
    vobiz_fake.add_room("Daily Standup", recording=True)
    run = run_scenario(scenarios.stop_dag, conference_name=name)

    assert run.task_states == {"stop": "failed"}
    assert run.xcom("stop") is None
    assert vobiz_fake.requests == []
    assert said in task_log()


def test_bad_input_is_not_retried(vobiz_fake: Any, task_log: Callable[[], str]) -> None:
    run = run_scenario(scenarios.stop_retry_dag, conference_name=" ")

    assert run.task_states == {"stop": "failed"}  # failed at once, not up_for_retry: a retry cannot fix it
    assert vobiz_fake.requests == []
    assert task_log().count("conference_name must not be empty") >= 1


def test_none_and_missing_params_are_rejected(vobiz_fake: Any, task_log: Callable[[], str]) -> None:
    run = run_scenario(scenarios.native_none_dag)

    assert run.task_states == {"stop": "failed", "start": "failed", "stop_missing_param": "failed"}
    assert vobiz_fake.requests == []
    log = task_log()
    assert log.count("AirflowFailException: conference_name is None") == 2  # stop and start
    if AIRFLOW_V_3_2_PLUS:  # Native rendering hands Jinja's Undefined to execute(), which names the missing param.
        assert "conference_name rendered to an undefined value: 'dict object' has no attribute 'missing'" in log
    else:  # Airflow 2.11 to 3.1 fail the rendering itself, with Jinja's own error, before execute().
        assert "UndefinedError: 'dict object' has no attribute 'missing'" in log


def test_a_missing_param_fails_while_rendering(vobiz_fake: Any) -> None:
    run = run_scenario(scenarios.missing_param_dag)

    assert run.task_states == {"stop": "failed"}
    assert vobiz_fake.requests == []


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"file_format": "ogg"}, "file_format must be one of 'mp3', 'wav', got 'ogg'"),
        ({"file_format": "MP3"}, "file_format must be one of 'mp3', 'wav', got 'MP3'"),
        ({"file_format": ""}, "file_format must be one of 'mp3', 'wav', got ''"),
        ({"callback_url": "ftp://hooks.example.com/x"}, "callback_url must be an http or https URL, got 'ftp://"),
        ({"callback_url": "hooks.example.com/vobiz"}, "callback_url must be an http or https URL"),
        ({"callback_url": "https:///no-host"}, "callback_url must name a host, got 'https:///no-host'"),
        ({"callback_url": "http://example.com:port/"}, "callback_url is not a valid URL"),
        ({"conference_name": " "}, "conference_name must not be empty or only whitespace"),
    ],
)
def test_start_rejects_bad_inputs(
    vobiz_fake: Any, task_log: Callable[[], str], params: dict[str, str], said: str
) -> None:
    vobiz_fake.add_room("Daily Standup")
    run = run_scenario(scenarios.start_dag, **params)

    assert run.task_states == {"start": "failed"}
    assert run.xcom("start") is None
    assert vobiz_fake.requests == []
    assert said in task_log()
