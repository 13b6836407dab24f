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
others are recorded as sent.
"""

from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
import time
from dataclasses import dataclass
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

    Raises:
        MailError: the send failed, or some recipients were refused (they are named).
    """
    log = log or SentLog()
    now = int(time.time()) if now is None else now
    key = message_key(report, recipients)
    with log.locked(key):
        record = log.read(key)
        done = set(record.recipients) if record and not resend else set()
        pending = [r for r in recipients if r not in done]
        already = [r for r in recipients if r in done]
        message = build_message(
            report, recipients, settings.from_address, key, draw_charts(report) if pending else [],
            now,
        )  # fmt: skip
        message_id = str(message["Message-ID"])
        if not pending:
            return SendResult(message_id, [], already)
        refused = _deliver(message, settings, pending)
        accepted = [r for r in pending if r not in refused]
        if record is None or resend:
            record = SentRecord(message_id, str(message["Subject"]), dict(record.recipients)
                                if record else {})  # fmt: skip
        record.recipients.update(dict.fromkeys(accepted, now))
        if accepted:
            log.write(key, record)
    if refused:
        names = ", ".join(f"{r} ({code} {reason})" for r, (code, reason) in refused.items())
        raise MailError(f"{_server(settings)} refused recipients: {names}")
    return SendResult(message_id, accepted, already)


def _server(settings: SmtpSettings) -> str:
    return f"SMTP server {settings.host}:{settings.effective_port}"


def _deliver(
    message: EmailMessage, settings: SmtpSettings, recipients: list[str]
) -> dict[str, tuple[int, str]]:
    """Send over SMTP; returns the refused recipients -> (code, reason)."""
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
            if settings.starttls and not settings.ssl:
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                password = settings.password.get_secret_value() if settings.password else ""
                smtp.login(settings.user, password)
            refused = smtp.send_message(
                message, from_addr=settings.from_address, to_addrs=recipients
            )
    except smtplib.SMTPRecipientsRefused as exc:
        return {
            r: (code, reason.decode(errors="replace") if isinstance(reason, bytes) else reason)
            for r, (code, reason) in exc.recipients.items()
        }
    except smtplib.SMTPResponseException as exc:
        detail = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)  # fmt: skip
        raise MailError(
            f"cannot send the report via {_server(settings)}: {exc.smtp_code} {detail}"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        reason = str(exc) or type(exc).__name__
        raise MailError(f"cannot send the report via {_server(settings)}: {reason}") from None
    return {
        r: (code, reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason))
        for r, (code, reason) in refused.items()
    }
