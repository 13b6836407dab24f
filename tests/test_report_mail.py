"""Mailing a report to a real SMTP server (aiosmtpd on loopback), once, and failing clearly."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from jobacct.errors import UsageError
from jobacct.report.smtp import load_smtp_settings
from tests.test_report_data import cancellation_jobs, failure_jobs, fill

WINDOW = ["-S", "2026-11-20", "-E", "2026-11-22"]


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    ok = auth_data.login == b"reporter" and auth_data.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
def db(sqlite_url: str) -> str:
    fill(sqlite_url, failure_jobs() + cancellation_jobs())
    return sqlite_url.removeprefix("sqlite:///")


def run(db: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "TZ": "UTC", "NO_COLOR": "1", **env}
    return subprocess.run(
        [sys.executable, "-m", "jobacct", "--db", db, "report", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
    )


def smtp_env(port: int, tmp_path: Path) -> dict[str, str]:
    return {
        "JOBACCT_SMTP_HOST": "127.0.0.1",
        "JOBACCT_SMTP_PORT": str(port),
        "JOBACCT_SMTP_USER": "reporter",
        "JOBACCT_SMTP_PASSWORD": "s3cret",
        "JOBACCT_SMTP_FROM": "jobacct@cluster.example",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "JOBACCT_CONFIG": "/dev/null",  # no site config file
    }


def test_mail_arrives_with_both_parts_and_charts(
    db: str, smtp_server: tuple[int, Inbox], tmp_path: Path
) -> None:
    port, inbox = smtp_server
    env = smtp_env(port, tmp_path)
    args = ["failures", *WINDOW, "--mail-to", "ops@example.org,boss@example.org"]
    result = run(db, env, *args)
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")  # quiet under cron (issue 15)
    (sender, rcpts, message), = inbox.messages  # fmt: skip
    assert sender == "jobacct@cluster.example"
    assert rcpts == ["ops@example.org", "boss@example.org"]
    assert message["Subject"] == (
        "[jobacct] Job Failures 2026-11-20T00:00:00 - 2026-11-21T23:59:59 (172800 secs)"
    )
    assert message["To"] == "ops@example.org, boss@example.org"
    assert message["Message-ID"].endswith("@cluster.example>")
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.get_payload()  # type: ignore[misc]
    assert plain.get_content_type() == "text/plain"
    text = plain.get_content()
    assert text.startswith("Job Failures 2026-11-20T00:00:00 - 2026-11-21T23:59:59")
    assert "Failed jobs: 8" in text
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    html = html_part.get_content()
    assert '<td>alice</td><td class="num">4</td><td class="num">13.00</td>' in html
    (image,) = images
    assert image.get_content_type() == "image/png"
    png = image.get_content()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    assert "data:image" not in html

    # A retry (cron rerun) sends nothing: the sent record has both recipients.
    again = run(db, env, *args)
    assert again.returncode == 0, again.stderr
    assert (again.stdout, again.stderr) == ("", "")
    assert len(inbox.messages) == 1
    record = next((tmp_path / "state" / "jobacct" / "sent-reports").glob("*.json"))
    assert "ops@example.org" in record.read_text()

    # Another recipient list is another report; --resend sends the same one again.
    run(db, env, "failures", *WINDOW, "--mail-to", "ops@example.org")
    assert len(inbox.messages) == 2
    resend = run(db, env, *args, "--resend")
    assert resend.returncode == 0
    assert len(inbox.messages) == 3
    assert inbox.messages[2][2]["Message-ID"] == message["Message-ID"]


def test_usage_report_mail_and_empty_report(
    db: str, smtp_server: tuple[int, Inbox], tmp_path: Path
) -> None:
    port, inbox = smtp_server
    env = smtp_env(port, tmp_path)
    result = run(db, env, "account-by-user", *WINDOW, "-t", "hours", "-M", "tux",
                 "--mail-to", "ops@example.org")  # fmt: skip
    assert result.returncode == 0, result.stderr
    message = inbox.messages[0][2]
    assert message["Subject"].endswith("(172800 secs) (cluster=tux)")
    assert "Usage reported in CPU Hours" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    empty = run(db, env, "failures", "-S", "2026-01-01", "-E", "2026-01-02",
                "--mail-to", "ops@example.org")  # fmt: skip
    assert empty.returncode == 0, empty.stderr
    body = inbox.messages[1][2].get_body(("plain",))
    assert body is not None
    assert body.get_content().rstrip() == (
        "Job Failures 2026-01-01T00:00:00 - 2026-01-01T23:59:59 (86400 secs): "
        "no failed, timed-out, out-of-memory or node-failed jobs in this window"
    )


def test_failed_send_exits_nonzero_with_one_line(db: str, tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there: connection refused
    env = smtp_env(port, tmp_path)
    result = run(db, env, "failures", *WINDOW, "--mail-to", "ops@example.org")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"jobacct: error: cannot send the report via SMTP server 127.0.0.1:{port}: "
        "[Errno 111] Connection refused\n"
    )
    # Nothing was recorded as sent, so the next run tries again.
    assert not list((tmp_path / "state").rglob("*.json"))


def test_settings_precedence(tmp_path: Path) -> None:
    config = {"smtp": {"host": "mail.site", "port": 587, "starttls": True, "from": "a@site"}}
    s = load_smtp_settings({}, config)
    assert (s.host, s.effective_port, s.starttls, s.from_address) == (
        "mail.site",
        587,
        True,
        "a@site",
    )
    s = load_smtp_settings({"JOBACCT_SMTP_PORT": "2525", "JOBACCT_SMTP_STARTTLS": "no"}, config)
    assert (s.host, s.effective_port, s.starttls) == ("mail.site", 2525, False)
    assert load_smtp_settings({"JOBACCT_SMTP_SSL": "yes"}, {}).effective_port == 465
    with pytest.raises(UsageError, match="invalid SMTP setting JOBACCT_SMTP_PORT"):
        load_smtp_settings({"JOBACCT_SMTP_PORT": "smtp"}, config)
    with pytest.raises(UsageError, match=r"invalid SMTP setting smtp\.colour"):
        load_smtp_settings({}, {"smtp": {"colour": "blue"}})


class SlowInbox(Inbox):
    """Takes the message, then answers too late: the client's final reply is lost."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(3)
        return "250 OK"


def test_lost_final_reply_is_not_sent_twice(db: str, tmp_path: Path) -> None:
    """Issue 14: the server took the message but its 250 never came; a retry must not send
    a second copy (it did), and says what happened in one line."""
    inbox = SlowInbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env = {**smtp_env(port, tmp_path), "JOBACCT_SMTP_TIMEOUT": "1"}
        env.pop("JOBACCT_SMTP_USER")
        first = run(db, env, "failures", *WINDOW, "--mail-to", "ops@example.org")
        assert first.returncode == 1
        assert "delivery via SMTP server" in first.stderr and "unknown" in first.stderr
        assert first.stderr.count("\n") == 1
        again = run(db, env, "failures", *WINDOW, "--mail-to", "ops@example.org")
        assert again.returncode == 0, again.stderr
        assert len(inbox.messages) == 1
        forced = run(db, env, "failures", *WINDOW, "--mail-to", "ops@example.org", "--resend")
        assert forced.returncode == 1  # the slow server again; but it was sent on request
        assert len(inbox.messages) == 2
    finally:
        controller.stop()


def test_unwritable_record_sends_nothing(
    db: str, smtp_server: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A sent record that cannot be written: one line, and nothing sent (3 copies before)."""
    port, inbox = smtp_server
    state = tmp_path / "state"
    state.mkdir()
    env = smtp_env(port, tmp_path)
    # A file where the directory must go: unwritable even for root (tests run as root).
    (state / "jobacct").write_text("not a directory\n")
    for _ in range(3):
        result = run(db, env, "failures", *WINDOW, "--mail-to", "ops@example.org")
        assert result.returncode == 1
        assert result.stderr.startswith("jobacct: error: cannot keep the record of sent reports")
        assert result.stderr.count("\n") == 1 and "nothing was sent" in result.stderr
    assert inbox.messages == []


def test_empty_mail_to_is_refused(db: str, tmp_path: Path) -> None:
    result = run(db, {"XDG_STATE_HOME": str(tmp_path)}, "failures", *WINDOW, "--mail-to", "")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "jobacct: error: --mail-to needs a mail address\n"


def test_mail_says_what_it_did_on_a_terminal(
    db: str,
    smtp_server: tuple[int, Inbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from jobacct.cli import main

    port, _inbox = smtp_server
    for key, value in smtp_env(port, tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    args = ["--db", db, "report", "failures", *WINDOW, "--mail-to", "ops@example.org"]
    assert main(args) == 0
    assert capsys.readouterr().out.startswith(
        "Sent Job Failures 2026-11-20T00:00:00 - 2026-11-21T23:59:59 (172800 secs) to "
        "ops@example.org (<jobacct-report."
    )
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("Not sent again to ops@example.org")
