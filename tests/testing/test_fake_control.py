"""The ``/_fake/`` control API, the server's lifecycle, the pytest plugin and the command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime

import pytest
import requests

from vobiz_provider.testing import FakeSettings, FakeVobizServer

pytest_plugins = ["pytester"]


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _control(server: FakeVobizServer, method: str, path: str, body: object = None) -> requests.Response:
    return requests.request(method, f"{server.base_url}/_fake/{path}", json=body, timeout=5)


# control API ---------------------------------------------------------------------------------


def test_settings_over_http(api):
    answer = _control(api.server, "POST", "settings", {"list_shape": "legacy", "processing_delay_s": 0.05})
    assert answer.status_code == 200
    assert answer.json()["list_shape"] == "legacy"
    assert "recordings" in api.get("Recording/").json()
    assert _control(api.server, "POST", "settings", {"list_shape": "weird"}).status_code == 400
    assert _control(api.server, "POST", "settings", {"no_such": 1}).status_code == 400
    assert api.server.settings.list_shape == "legacy"  # the refused calls changed nothing


def test_rooms_over_http(api, poll):
    srv = api.server
    srv.configure(processing_delay_s=0.05)
    room = {"name": "Daily Standup", "members": 2, "recording": True, "file_format": "wav", "duration_s": 4}
    assert _control(srv, "POST", "rooms", room).status_code == 201
    assert api.get("Conference/Daily%20Standup/").json()["conference_member_count"] == "2"
    assert _control(srv, "POST", "rooms", room).status_code == 400  # exists
    ended = _control(srv, "POST", "rooms/Daily%20Standup/end").json()
    assert _control(srv, "POST", "rooms/Daily%20Standup/end").status_code == 404
    row = poll(lambda: _control(srv, "GET", "recordings").json())[0]
    assert row["recording_id"] == ended["recording_id"]
    assert row["recording_format"] == "wav"
    assert row["recording_duration_ms"] == "4000.00000"
    _control(srv, "POST", "rooms", {"name": "B"})
    assert _control(srv, "POST", "rooms/B/record", {"file_format": "mp3"}).status_code == 200
    assert api.post("Conference/B/Record/").status_code == 400  # already recording


def test_recordings_over_http(api):
    body = {"conference_name": "A", "add_time": "2026-05-07T04:15:35Z", "duration_s": 2, "file_format": "wav"}
    created = _control(api.server, "POST", "recordings", body)
    assert created.status_code == 201
    rid = created.json()["recording_id"]
    assert api.get(f"Recording/{rid}/").json()["add_time"] == "2026-05-07 04:15:35.000000+00:00"
    assert _control(api.server, "POST", "recordings", {"duration_s": 2}).status_code == 400
    assert _control(api.server, "POST", "recordings", {"conference_name": "A", "x": 1}).status_code == 400


def test_finish_processing_makes_stopped_recordings_appear_now(api, poll):
    srv = api.server
    srv.configure(processing_delay_s=3600, file_delay_s=0.2)
    srv.add_room("A", recording=True)
    stopped = srv.end_room("A")
    given = srv.add_recording(conference_name="B", ready=False, add_time=datetime(2026, 5, 7, 4, 15, 35))
    assert api.objects() == []
    before = time.time()

    finished = _control(srv, "POST", "recordings/finish-processing").json()["recording_ids"]

    assert sorted(finished) == sorted([stopped, given])
    rows = {row["recording_id"]: row for row in api.objects()}
    assert set(rows) == {stopped, given}
    # The stopped one was added just now, not an hour from now; a given add_time is kept.
    assert abs(datetime.fromisoformat(rows[stopped]["add_time"]).timestamp() - before) < 60
    assert rows[given]["add_time"] == "2026-05-07 04:15:35.000000+00:00"
    # The file still takes file_delay_s to be ready; nothing is left to finish.
    assert poll(lambda: api.download(rows[stopped]["recording_url"]).status_code == 200 or None)
    assert srv.finish_processing() == []


def test_faults_over_http(api):
    srv = api.server
    assert _control(srv, "POST", "faults", {"route": "recording.list", "status": 429, "retry_after": 3}).ok
    assert _control(srv, "POST", "faults", {"route": "recording.list", "malformed": True}).ok
    assert _control(srv, "POST", "faults", {"route": "conference.list", "latency": 0.2}).ok
    assert _control(srv, "POST", "faults", {"drop_after_bytes": 10}).ok
    assert _control(srv, "POST", "faults", {"route": "nope", "status": 500}).status_code == 400
    assert _control(srv, "POST", "faults", {"status": 500}).status_code == 400
    limited = api.get("Recording/")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    with pytest.raises(ValueError):
        api.get("Recording/").json()
    started = time.monotonic()
    api.get("Conference/")
    assert time.monotonic() - started >= 0.19
    srv.add_recording(conference_name="A")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.download(srv.recordings[0]["recording_url"])


def test_log_and_reset_over_http(api):
    api.server.add_room("A")
    api.get("Recording/")
    log = _control(api.server, "GET", "log").json()
    assert [(entry["route"], entry["status"]) for entry in log] == [("recording.list", 200)]
    assert log[0]["headers"]["X-Auth-ID"] == api.server.auth_id
    assert _control(api.server, "DELETE", "log").ok
    assert api.server.requests == []  # and /_fake/ calls themselves are not logged
    api.server.configure(get_shape="wrapped")
    assert _control(api.server, "POST", "reset").ok
    assert api.server.settings == FakeSettings()
    assert api.get("Conference/").json()["conferences"] == []


# lifecycle -------------------------------------------------------------------------------------


def test_context_manager_stops_within_a_second_and_closes_the_port():
    with FakeVobizServer(auth_id="MA_T", auth_token="t") as srv:
        port = srv.port
        assert srv.base_url == f"http://127.0.0.1:{port}"
        assert _port_open("127.0.0.1", port)
        started = time.monotonic()
    assert time.monotonic() - started < 1.0
    assert not _port_open("127.0.0.1", port)
    srv.stop()  # idempotent


def test_stop_cuts_off_in_flight_and_kept_alive_connections():
    srv = FakeVobizServer(auth_id="MA_T", auth_token="t").start()
    port = srv.port
    session = requests.Session()
    session.get(f"{srv.base_url}/_fake/log", timeout=5)  # leaves a kept-alive connection open
    srv.set_latency("conference.list", 5)
    stopper = threading.Timer(0.1, srv.stop)
    stopper.start()
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(f"{srv.base_url}/api/v1/Account/MA_T/Conference/", timeout=5)
    stopper.join()
    assert time.monotonic() - started < 1.0
    assert not _port_open("127.0.0.1", port)


def test_start_twice_refused_and_fixed_port_reusable():
    srv = FakeVobizServer().start()
    try:
        with pytest.raises(RuntimeError):
            srv.start()
        port = srv.port
    finally:
        srv.stop()
    with FakeVobizServer(port=port) as again:
        assert again.port == port
        assert requests.get(f"{again.base_url}/_fake/log", timeout=5).ok


def test_listens_on_every_host_on_one_port(vobiz_fake_server):
    hosts = vobiz_fake_server.listen_hosts
    for host in hosts:
        assert _port_open(host, vobiz_fake_server.port)


def test_connection_json(vobiz_fake):
    conn = json.loads(os.environ["AIRFLOW_CONN_VOBIZ_DEFAULT"])
    assert conn == json.loads(vobiz_fake.connection_json())
    assert conn["conn_type"] == "vobiz"
    assert (conn["login"], conn["password"]) == (vobiz_fake.auth_id, vobiz_fake.auth_token)
    assert conn["host"] == vobiz_fake.base_url
    assert json.loads(vobiz_fake.connection_json({"timeout": 3}))["extra"] == {"timeout": 3}


def test_fixture_gives_fast_delays_and_a_clean_server(vobiz_fake):
    assert vobiz_fake.settings.processing_delay_s == 0.2
    assert vobiz_fake.settings.file_delay_s == 0.2
    assert vobiz_fake.recordings == []
    assert vobiz_fake.requests == []


# plugin and command ----------------------------------------------------------------------------


def test_plugin_imports_no_aiohttp():
    code = "import sys, vobiz_provider.testing.pytest_plugin; print('aiohttp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == "False"


def test_plugin_session_server_is_stopped_at_session_end(pytester):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        import os, requests
        def test_uses_fake(vobiz_fake):
            open("port.txt", "w").write(str(vobiz_fake.port))
            assert os.environ["AIRFLOW_CONN_VOBIZ_DEFAULT"] == vobiz_fake.connection_json()
            assert requests.get(vobiz_fake.base_url + "/_fake/log", timeout=5).ok
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "vobiz_provider.testing.pytest_plugin")
    result.assert_outcomes(passed=1)
    port = int((pytester.path / "port.txt").read_text())
    assert not _port_open("127.0.0.1", port)


def test_plugin_is_opt_in(pytester):
    # Installing the provider must not add fixtures (or a server) to anyone's pytest.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile("def test_uses_fake(vobiz_fake):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'vobiz_fake' not found*"])


def test_command_serves_the_demo_room_and_stops_on_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "-m", "vobiz_provider.testing", "--port", "0", "--processing-delay", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        base_url = first.split(" on ")[1].strip()
        headers = {"X-Auth-ID": "MA_DEMO0001", "X-Auth-Token": "demo-token"}
        api = f"{base_url}/api/v1/Account/MA_DEMO0001"
        room = requests.get(f"{api}/Conference/Daily%20Standup/", headers=headers, timeout=5).json()
        assert room["conference_member_count"] == "3"
        stopped = requests.delete(f"{api}/Conference/Daily%20Standup/Record/", headers=headers, timeout=5)
        assert stopped.status_code == 204
        assert requests.get(f"{api}/Recording/", timeout=5).status_code == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_restart_over_http_makes_a_finished_part_and_keeps_recording(api):
    srv = api.server
    srv.configure(processing_delay_s=60)
    _control(srv, "POST", "rooms", {"name": "Standup", "recording": True, "file_format": "wav"})
    # The host restarted the recording ten minutes ago: part 1 is listed now, the room still records.
    part1 = _control(srv, "POST", "rooms/Standup/restart", {"ago_s": 600}).json()["recording_id"]
    rows = _control(srv, "GET", "recordings").json()
    assert [row["recording_id"] for row in rows] == [part1]
    assert float(rows[0]["recording_end_ms"]) / 1000 == pytest.approx(time.time() - 600, abs=5)
    srv.configure(processing_delay_s=0)
    part2 = srv.end_room("Standup")
    assert part2 not in (None, part1) and {row["recording_id"] for row in srv.recordings} == {part1, part2}
    assert _control(srv, "POST", "rooms/Standup/restart").status_code == 404  # the room is gone
    _control(srv, "POST", "rooms", {"name": "Idle"})
    assert "not recording" in _control(srv, "POST", "rooms/Idle/restart").json()["error"]
    assert _control(srv, "POST", "rooms/Idle/restart", {"ago_s": "soon"}).status_code == 400


def test_a_clock_behind_stamps_the_recording_end_behind(api):
    srv = api.server
    srv.configure(processing_delay_s=0, clock_offset_s=-5)
    srv.add_room("Standup", recording=True)
    before = time.time()
    rid = srv.end_room("Standup")
    row = next(row for row in srv.recordings if row["recording_id"] == rid)
    assert float(row["recording_end_ms"]) / 1000 == pytest.approx(before - 5, abs=1)
    with pytest.raises(ValueError, match="clock_offset_s must be a number of seconds"):
        srv.configure(clock_offset_s="5s")


def test_a_rotated_token_over_http_and_reset_restores_the_first(api):
    srv = api.server
    first = srv.auth_token
    assert _control(srv, "POST", "credentials", {"auth_token": "rotated-456"}).ok
    assert _control(srv, "POST", "credentials", {"auth_token": ""}).status_code == 400
    assert api.get("Recording/").status_code == 401  # the old token
    rotated = {"X-Auth-ID": srv.auth_id, "X-Auth-Token": "rotated-456"}
    assert requests.get(api.url("Recording/"), headers=rotated, timeout=5).status_code == 200
    assert json.loads(srv.connection_json())["password"] == "rotated-456"
    srv.reset()
    assert srv.auth_token == first and api.get("Recording/").status_code == 200
