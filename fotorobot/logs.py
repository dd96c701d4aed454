"""Logging for the long-running commands: plain stderr lines, and no secret in any of them.

`install_log_redaction` masks registered secrets (the bot token, the webhook secret) in every
record of every logger, tracebacks included, and quiets httpx, whose INFO lines are request
URLs holding the token.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable

REDACTED = "[REDACTED]"

_SECRETS: set[str] = set()
_PREVIOUS_FACTORY: list[Callable[..., logging.LogRecord]] = []  # set while our factory is installed


def setup_logging(level: str, secrets: Iterable[str]) -> None:
    """Plain logging to stderr with these secrets masked; third-party chatter quieted."""
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    install_log_redaction(secrets)
    quiet_noisy_loggers()


def quiet_noisy_loggers() -> None:
    """GPy's paramz warns on every hyperparameter fit (a Logistic prior's log-Jacobian): noise."""
    logging.getLogger("paramz").setLevel(logging.ERROR)
    logging.getLogger("GP").setLevel(logging.ERROR)


def redact(text: str) -> str:
    """`text` with every registered secret replaced by [REDACTED]."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _scrub(record: logging.LogRecord) -> None:
    """Rewrite a record in place so its message, traceback and stack hold no secret."""
    if not _SECRETS:
        return
    try:
        message = record.getMessage()
    except (TypeError, ValueError, KeyError):
        message = f"{record.msg} {record.args}"  # a broken format call: keep it, redacted
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """A handler filter that scrubs secrets from every record passing through."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub(record)
        return True


def install_log_redaction(secrets: Iterable[str]) -> None:
    """Mask these secrets in every log record (any logger, any handler) and quiet httpx."""
    _SECRETS.update(s for s in secrets if s)
    if not _PREVIOUS_FACTORY:
        # The record factory covers every logger, including handlers added later (and
        # records that never reach the root handlers); the filter below covers the rest.
        previous = logging.getLogRecordFactory()
        _PREVIOUS_FACTORY.append(previous)

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub(record)
            return record

        logging.setLogRecordFactory(factory)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def reset_log_redaction() -> None:
    """Undo install_log_redaction (for tests): forget secrets, restore the record factory."""
    _SECRETS.clear()
    if _PREVIOUS_FACTORY:
        logging.setLogRecordFactory(_PREVIOUS_FACTORY.pop())
    for handler in logging.getLogger().handlers:
        for f in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(f)
