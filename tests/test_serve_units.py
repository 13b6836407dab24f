"""The daemon's pure parts (issue 13): choosing the server, what is sent, the policy, frames."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobacct import client, wire
from jobacct.server import policy
from jobacct.server.peer import Peer

ALICE = Peer(pid=10, uid=1001, gid=1001)
ROOT = Peer(pid=11, uid=0, gid=0)


@pytest.fixture(autouse=True)
def _no_site_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBACCT_CONFIG", "/dev/null")  # no site config file
    monkeypatch.delenv("JOBACCT_SERVER", raising=False)


def test_choosing_the_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert client.resolve(["sacct", "-j", "1"]) == (None, ["sacct", "-j", "1"])
    assert client.resolve(["--server", "unix:/run/j.sock", "sacct"]) == ("/run/j.sock", ["sacct"])
    assert client.resolve(["--server=/run/j.sock", "sacct"]) == ("/run/j.sock", ["sacct"])
    monkeypatch.setenv("JOBACCT_SERVER", "unix:/run/env.sock")
    assert client.resolve(["sacct"]) == ("/run/env.sock", ["sacct"])
    # --db opens the store directly, whatever the environment says; db commands always do.
    assert client.resolve(["--db", "x.sqlite", "sacct"]) == (None, ["--db", "x.sqlite", "sacct"])
    assert client.resolve(["db", "upgrade"]) == (None, ["db", "upgrade"])
    with pytest.raises(client.ClientUsageError, match="cannot be used together"):
        client.resolve(["--server", "/s", "--db", "x", "sacct"])
    with pytest.raises(client.ClientUsageError, match="drop --server"):
        client.resolve(["--server", "/s", "db", "init"])
    with pytest.raises(client.ClientUsageError, match="expected unix:/PATH"):
        client.resolve(["--server", "tcp://host:1", "sacct"])
    monkeypatch.setenv("JOBACCT_SERVER", "")
    assert client.resolve(["sacct"]) == (None, ["sacct"])
    monkeypatch.delenv("JOBACCT_SERVER")
    config = tmp_path / "jobacct.toml"
    config.write_text('server = "unix:/run/jobacct/jobacct.sock"\n')
    monkeypatch.setenv("JOBACCT_CONFIG", str(config))
    assert client.resolve(["report", "failures"])[0] == "/run/jobacct/jobacct.sock"
    # The root options may follow the command too (the console script moves them first).
    assert client.resolve(client.hoist_root_options(["sacct", "--server", "/s", "-X"])) == (
        "/s",
        ["sacct", "-X"],
    )
    # A [server] table gives the daemon's address as `address`.
    config.write_text('[server]\naddress = "unix:/run/j.sock"\ncontrollers = ["root"]\n')
    assert client.resolve(["sacct"])[0] == "/run/j.sock"


def test_only_the_variables_commands_read_are_sent() -> None:
    sent = client.forwarded_env(
        {
            "TZ": "Europe/Paris",
            "SACCT_FORMAT": "jobid",
            "SCANCEL_USER": "alice",
            "JOBID": "7",
            "JOBACCT_DATABASE_URL": "sqlite:////tmp/mine.sqlite",
            "JOBACCT_CONFIG": "/tmp/mine.toml",
            "JOBACCT_SACCT_PROCESSES": "10000",
            "LD_PRELOAD": "/tmp/x.so",
            "PATH": "/tmp",
        }
    )
    assert sent == {
        "TZ": "Europe/Paris",
        "SACCT_FORMAT": "jobid",
        "SCANCEL_USER": "alice",
        "JOBID": "7",
    }
    for tz in ("/etc/shadow", ":/etc/shadow", "../../etc/shadow"):
        assert client.forwarded_env({"TZ": tz}) == {}


def test_policy_from_the_site_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "slurm.conf"
    conf.write_text("ClusterName=tux\n# SlurmUser=nobody\nSlurmUser=4242  # the controller\n")
    monkeypatch.setenv("SLURM_CONF", str(conf))
    assert policy.load({}).controllers == frozenset({0, 4242})
    assert policy.load({"server": {"controllers": ["root", 77]}}).controllers == {0, 77}
    private = policy.load({"server": {"private_data": "jobs,usage"}})
    assert private.private_jobs and "usage" in private.private_data
    monkeypatch.setenv("SLURM_CONF", str(tmp_path / "missing.conf"))
    assert policy.load({}).controllers == frozenset({0})
    with pytest.raises(Exception, match="unknown controller user"):
        policy.load({"server": {"controllers": ["no-such-user-here"]}})


@pytest.mark.parametrize(
    ("argv", "peer", "words", "status"),
    [
        (["shim", "ingest", "f"], ALICE, "'shim ingest' writes records as the controller", 1),
        (["shim", "jobcomp"], ALICE, "'shim jobcomp'", 1),
        (["import", "sacct", "-"], ALICE, "'import sacct'", 1),
        (["--db", "/x", "sacct"], ROOT, "--db cannot be used", 2),
        (["--db=/x", "sacct"], ROOT, "--db cannot be used", 2),
        (["db", "init"], ROOT, "'db' is not run through", 2),
        (["serve"], ROOT, "'serve' is not run through", 2),
    ],
)
def test_refusals(argv: list[str], peer: Peer, words: str, status: int) -> None:
    found = policy.refusal(policy.Policy(frozenset({0})), peer, argv)
    assert found is not None and words in found[0] and found[1] == status
    if status == 1:
        assert found[0].startswith("ESLURM_ACCESS_DENIED: ")


def test_what_is_not_refused() -> None:
    rules = policy.Policy(frozenset({0, 1900}))
    for argv in (["sacct"], ["--help"], [], ["sjobexitmod", "-e", "1", "5"], ["nonsense"]):
        assert policy.refusal(rules, ALICE, argv) is None
    assert policy.refusal(rules, Peer(1, 1900, 1900), ["shim", "ingest"]) is None
    assert policy.refusal(rules, ROOT, ["import", "sacct", "-"]) is None


@given(st.lists(st.tuples(st.sampled_from(b"OEDRXZ"), st.binary(max_size=300)), max_size=20),
       st.integers(min_value=1, max_value=50))  # fmt: skip
def test_frames_survive_any_split(frames: list[tuple[int, bytes]], piece: int) -> None:
    stream = b"".join(wire.frame(bytes([kind]), data) for kind, data in frames)
    buffer = wire.FrameBuffer()
    got = []
    for i in range(0, len(stream), piece):
        got += buffer.feed(stream[i : i + piece])
    assert got == [(bytes([kind]), data) for kind, data in frames]
    assert buffer.pending == 0


@given(st.lists(st.binary(min_size=1, max_size=200), max_size=10),
       st.integers(min_value=1, max_value=40))  # fmt: skip
def test_the_clients_chunked_decoder(chunks: list[bytes], piece: int) -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: x\r\n\r\n"
        + b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
        + b"0\r\n\r\n"
    )
    decoder = client._Chunked()
    body = b""
    for i in range(0, len(answer), piece):
        body += decoder.feed(answer[i : i + piece])
    assert decoder.status == 200 and decoder.ended
    assert body == b"".join(chunks)


def test_an_oversized_frame_is_refused() -> None:
    with pytest.raises(wire.FrameError):
        wire.FrameBuffer().feed(b"D" + (wire.MAX_PAYLOAD + 1).to_bytes(4, "big"))


_PRELOADED = """
import json, sys
from jobacct.server.zygote import _preload_drivers
_preload_drivers(sys.argv[1])
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


@pytest.mark.parametrize(
    ("url", "drivers"),
    [
        ("postgresql+psycopg://u@127.0.0.1/d", {"psycopg", "psycopg2"}),
        ("mysql+pymysql://u@127.0.0.1/d", {"pymysql"}),
        ("sqlite:////var/lib/jobacct/jobacct.sqlite", set()),
    ],
)
def test_the_zygote_preloads_the_store_drivers(url: str, drivers: set[str]) -> None:
    """The daemon's workers find the drivers of its store imported (psycopg2 is 30 ms of
    a one-job lookup on PostgreSQL, psycopg 3 0.13 s of every other command)."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _PRELOADED, url], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout)) & {"psycopg", "psycopg2", "MySQLdb", "pymysql"}
    assert drivers <= loaded
    if not drivers:
        assert not loaded
