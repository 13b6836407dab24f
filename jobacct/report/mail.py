"""Mailing a report: one multipart message (plain text, and HTML with the charts inline).

Message structure (RFC 2046/2387)::

    multipart/alternative
      text/plain           the text report (ASCII tables)
      multipart/related
        text/html          the HTML page; charts as <img src="cid:...">
        image/png ...      one per chart, Content-ID matching the cid

Idempotency: the Message-ID is derived from the report kind and title, window, filters, unit
and the sorted recipients, so the same report to the same people always has the same id; the
local sent record (:mod:`jobacct.report.sentlog`) keeps who accepted it, and a retry sends
only to recipients not yet recorded (none: nothing is sent). ``resend`` sends again anyway.

Errors: any connection, TLS, AUTH or SMTP failure raises :class:`MailError` (exit status 1)
with the server and the reason in one line; recipients the server refused are named, and the
others are recorded as sent. At most once: recipients are recorded before the message goes
out, so neither a sent record that cannot be written nor a lost final reply makes a retry
deliver a second copy (:func:`send_report`).
"""

from __future__ import annotations

import copy as copy_module
import email.generator
import hashlib
import io
import json
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage, MIMEPart
from email.utils import formatdate

from jobacct.errors import JobAcctError
from jobacct.report.charts import Picture
from jobacct.report.document import Report
from jobacct.report.output import draw_charts, html_page, plain_text
from jobacct.report.sentlog import SentLog, SentRecord
from jobacct.report.smtp import SmtpSettings


class MailError(JobAcctError):
    """The report could not be sent (connection, TLS, AUTH or a refusal); exit status 1."""


def message_key(report: Report, recipients: list[str]) -> str:
    """A stable hex key of (kind, title, window, filters, unit, sorted recipients)."""
    identity = {
        "kind": report.kind,
        "title": report.title,
        "start": report.window.start,
        "end": report.window.end,
        "filters": {k: sorted(v) for k, v in sorted(report.filters.items())},
        "unit": report.unit.name if report.unit else None,
        "to": sorted({r.lower() for r in recipients}),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


def subject(report: Report) -> str:
    """``[jobacct] <title> <window>``, plus the filters when there are any."""
    text = f"[jobacct] {report.heading()}"
    return f"{text} ({report.filter_text()})" if report.filters else text


def build_message(
    report: Report,
    recipients: list[str],
    sender: str,
    key: str,
    pictures: list[Picture],
    now: int,
) -> EmailMessage:
    """The multipart message (module docstring) with Message-ID ``<jobacct-report.KEY@...>``."""
    domain = sender.rpartition("@")[2] or "jobacct.invalid"
    message = EmailMessage()
    message["Subject"] = subject(report)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(now)
    message["Message-ID"] = f"<jobacct-report.{key}@{domain}>"
    message["X-Jobacct-Report"] = report.kind
    message.set_content(plain_text(report))
    cid_suffix = f".{key[:16]}@jobacct"
    message.add_alternative(html_page(report, pictures, cid_suffix=cid_suffix), subtype="html")
    html_part = message.get_payload()[1]  # type: ignore[index]
    assert isinstance(html_part, MIMEPart)
    for picture in pictures:
        html_part.add_related(
            picture.png,
            maintype="image",
            subtype="png",
            cid=f"<{picture.key}{cid_suffix}>",
            filename=f"{picture.key}.png",
            disposition="inline",
        )
    return message


@dataclass(frozen=True)
class SendResult:
    """What happened: the Message-ID, who got it now, and who already had it."""

    message_id: str
    sent_to: list[str]
    already: list[str]


def send_report(
    report: Report,
    recipients: list[str],
    settings: SmtpSettings,
    *,
    log: SentLog | None = None,
    resend: bool = False,
    now: int | None = None,
) -> SendResult:
    """Mail ``report`` to ``recipients`` unless each already got it (module docstring).

    At most once: each pending recipient is recorded as unconfirmed before the message goes
    out (so a record that cannot be written stops the send before anything is sent), then as
    accepted, or dropped if the server refused it before taking the message. A recipient left
    unconfirmed (the run was killed, or the server's reply to the message was lost) is not
    sent to again without ``resend``.

    Raises:
        MailError: the send failed, the outcome is unknown for some recipients, some were
            refused (each is named), or the sent record cannot be written.
    """
    log = log or SentLog()
    now = int(time.time()) if now is None else now
    key = message_key(report, recipients)
    try:
        with log.locked(key):
            return _send_locked(report, recipients, settings, log, key, resend, now)
    except OSError as exc:
        raise MailError(
            f"cannot keep the record of sent reports in {log.directory}: {exc.strerror or exc};"
            " nothing was sent"
        ) from None


def _send_locked(
    report: Report,
    recipients: list[str],
    settings: SmtpSettings,
    log: SentLog,
    key: str,
    resend: bool,
    now: int,
) -> SendResult:
    record = log.read(key)
    done = set(record.recipients) | set(record.unconfirmed) if record and not resend else set()
    pending = [r for r in recipients if r not in done]
    already = [r for r in recipients if r in done]
    message = build_message(
        report, recipients, settings.from_address, key, draw_charts(report) if pending else [],
        now,
    )  # fmt: skip
    message_id = str(message["Message-ID"])
    if not pending:
        return SendResult(message_id, [], already)
    if record is None or resend:
        record = SentRecord(message_id, str(message["Subject"]),
                            dict(record.recipients) if record else {})  # fmt: skip
    record.unconfirmed.update(dict.fromkeys(pending, now))
    log.write(key, record)  # OSError: nothing sent (send_report)
    outcome = _deliver(message, settings, pending)
    for recipient in pending:
        if recipient in outcome.accepted:
            record.unconfirmed.pop(recipient, None)
            record.recipients[recipient] = now
        elif not outcome.unknown:
            record.unconfirmed.pop(recipient, None)  # refused, or never offered the message
    try:
        if record.recipients or record.unconfirmed:
            log.write(key, record)
        else:
            log.remove(key)
    except OSError as exc:
        # Recorded as unconfirmed before sending: a retry still does not send again.
        raise MailError(
            f"sent via {_server(settings)}, but cannot record it in {log.directory}:"
            f" {exc.strerror or exc}; a retry will not send it again"
        ) from None
    if outcome.error is not None:
        raise MailError(outcome.error)
    if outcome.refused:
        names = ", ".join(f"{r} ({code} {why})" for r, (code, why) in outcome.refused.items())
        raise MailError(f"{_server(settings)} refused recipients: {names}")
    return SendResult(message_id, outcome.accepted, already)


def _server(settings: SmtpSettings) -> str:
    return f"SMTP server {settings.host}:{settings.effective_port}"


@dataclass
class _Outcome:
    """What one SMTP transaction did: accepted and refused recipients, and whether the
    message may have been taken although no reply said so (``unknown``)."""

    accepted: list[str] = field(default_factory=list)
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)
    unknown: bool = False
    error: str | None = None


def _wire_bytes(message: EmailMessage) -> bytes:
    """The message as smtplib's send_message puts it on the wire: CRLF line ends (DATA does
    not convert the line ends of bytes) and no Bcc header."""
    copy = copy_module.copy(message)
    del copy["Bcc"]
    del copy["Resent-Bcc"]
    with io.BytesIO() as buffer:
        email.generator.BytesGenerator(buffer).flatten(copy, linesep="\r\n")
        return buffer.getvalue()


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _deliver(message: EmailMessage, settings: SmtpSettings, recipients: list[str]) -> _Outcome:
    """One SMTP transaction, step by step (smtplib's MAIL, RCPT, DATA), so that a failure
    before DATA (nothing delivered) is told apart from one after it (outcome unknown)."""
    outcome = _Outcome()
    in_data = False
    try:
        smtp: smtplib.SMTP
        if settings.ssl:
            smtp = smtplib.SMTP_SSL(
                settings.host,
                settings.effective_port,
                timeout=settings.timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.effective_port, timeout=settings.timeout)
        with smtp:
            smtp.ehlo_or_helo_if_needed()
            if settings.starttls and not settings.ssl:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.user:
                password = settings.password.get_secret_value() if settings.password else ""
                smtp.login(settings.user, password)
            code, reply = smtp.mail(settings.from_address)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, settings.from_address)
            for recipient in recipients:
                code, reply = smtp.rcpt(recipient)
                if code in (250, 251):
                    outcome.accepted.append(recipient)
                else:
                    outcome.refused[recipient] = (code, _text(reply))
            if not outcome.accepted:
                smtp.rset()
                return outcome
            in_data = True
            code, reply = smtp.data(_wire_bytes(message))
            in_data = False
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
    except smtplib.SMTPResponseException as exc:
        # The server answered with a refusal: it did not take the message.
        outcome.accepted = []
        outcome.error = (
            f"cannot send the report via {_server(settings)}: {exc.smtp_code}"
            f" {_text(exc.smtp_error)}"
        )
    except (smtplib.SMTPException, OSError) as exc:
        reason = str(exc) or type(exc).__name__
        if in_data:
            # The message went out and the server's reply never came: it may have it.
            outcome.unknown = True
            pending = ", ".join(outcome.accepted)
            outcome.accepted = []
            outcome.error = (
                f"delivery via {_server(settings)} unknown ({reason}): the server may have the"
                f" report for {pending}; not sent again to them without --resend"
            )
        else:
            outcome.accepted = []
            outcome.error = f"cannot send the report via {_server(settings)}: {reason}"
    return outcome
