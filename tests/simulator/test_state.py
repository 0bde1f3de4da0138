"""The simulator keeps a fleet's changes in a state file, so a restart does not undo them."""

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import requests

from simulator.fleet import Fleet
from simulator.state import StateKeeper, load, save
from tests.simulator.test_cli import ROOT, free_port, wait_for_token

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def fleet(seed: int = 5, sims: int = 20) -> Fleet:
    return Fleet(sims=sims, seed=seed, now=lambda: NOW, write_delay=0.0)


def changed_fleet() -> tuple[Fleet, list[str]]:
    """A fleet changed every way the API and the controls change one."""
    original = fleet()
    iccids = original.iccids()
    original.writes.request_update(iccids[0], {"status": "Disabled", "label": "tank <4>"})
    original.writes.request_update(iccids[1], {"imei_lock": True})
    original.writes.request_topup([iccids[2]])
    original.writes.request_sms(iccids[3], {"payload": "ping"})
    original.writes.request_limits({"data": 5})
    original.writes.flush()
    original.controls.remove_sim(iccids[4])
    original.controls.add_sims(2)
    original.controls.advance_clock(3600)
    return original, iccids


def test_a_restored_fleet_answers_as_the_changed_one(tmp_path):
    original, iccids = changed_fleet()
    path = tmp_path / "state.json"
    save(original, path)

    restored = fleet()
    assert load(restored, path) is True
    assert restored.iccids() == original.iccids()
    assert restored.now() == original.now()
    for iccid in original.iccids():
        assert restored.sim(iccid) == original.sim(iccid)
        assert restored.data_quota(iccid) == original.data_quota(iccid)
    assert restored.sim(iccids[0]).status == "Disabled"
    assert restored.sim(iccids[0]).label == "tank <4>"
    assert restored.sms(iccids[3]) == original.sms(iccids[3])
    assert restored.orders() == original.orders()
    assert restored.limits() == original.limits()
    # A new MT SMS does not reuse the id of a restored one.
    [kept] = [m.id for m in restored.sms(iccids[3]) or [] if m.direction == "MT"]
    assert restored.writes.request_sms(iccids[3], {"payload": "again"}) > kept


def test_a_state_of_another_fleet_or_a_broken_file_is_ignored(tmp_path):
    original, _ = changed_fleet()
    path = tmp_path / "state.json"
    save(original, path)
    other = fleet(seed=6)
    assert load(other, path) is False
    assert all(other.sim(i).status == fleet(seed=6).sim(i).status for i in other.iccids())
    path.write_text("{not json")
    assert load(fleet(), path) is False
    assert load(fleet(), tmp_path / "missing.json") is False


def test_saving_is_atomic_and_skips_an_unchanged_state(tmp_path):
    original, _ = changed_fleet()
    path = tmp_path / "state" / "state.json"
    text = save(original, path)
    assert json.loads(path.read_text())["seed"] == 5
    assert os.listdir(path.parent) == ["state.json"]  # no temporary file left behind
    path.write_text("replaced")
    assert save(original, path, previous=text) == text
    assert path.read_text() == "replaced"


def test_the_keeper_saves_accepted_writes_on_stop(tmp_path):
    path = tmp_path / "state.json"
    first = Fleet(sims=10, seed=5, now=lambda: NOW, write_delay=600.0)
    keeper = StateKeeper(first, path, every=60).start()
    iccid = first.iccids()[0]
    first.writes.request_update(iccid, {"label": "accepted"})
    keeper.stop()

    second = Fleet(sims=10, seed=5, now=lambda: NOW + timedelta(minutes=1))
    StateKeeper(second, path, every=60).start().stop()
    assert second.sim(iccid).label == "accepted"


def test_serve_keeps_changes_across_restarts(tmp_path):
    path = tmp_path / "state.json"
    env = {"PATH": os.environ.get("PATH", "")}

    def serve() -> tuple[subprocess.Popen, str, dict]:
        port = free_port()
        command = [sys.executable, "-m", "simulator", "serve", "--port", str(port), "--sims",
                   "10", "--client-id", "me", "--client-secret", "pw", "--write-delay", "0",
                   "--state-file", str(path)]  # fmt: skip
        server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        url = f"http://127.0.0.1:{port}/management-api"
        token = wait_for_token(url, ("me", "pw")).json()["access_token"]
        return server, url, {"Authorization": f"Bearer {token}"}

    server, url, auth = serve()
    try:
        iccid = requests.get(f"{url}/v2/sims", headers=auth, timeout=10).json()[0]["iccid"]
        response = requests.put(
            f"{url}/v2/sims/{iccid}", json={"label": "kept"}, headers=auth, timeout=10
        )
        assert response.status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        _, log = server.communicate(timeout=15)
    assert server.returncode == 0, log
    assert f"Fleet changes kept in {path}" in log

    server, url, auth = serve()
    try:
        sim = requests.get(f"{url}/v2/sims/{iccid}", headers=auth, timeout=10).json()
    finally:
        server.terminate()
        server.communicate(timeout=15)
    assert sim["label"] == "kept"
