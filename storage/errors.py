"""Errors raised by storage: each names what was refused, in words the bot can show or map."""

from __future__ import annotations


class StorageError(Exception):
    """Base class: the request was refused and nothing was stored."""


class NotFound(StorageError):
    """A chat, session, round or face that the call names does not exist."""


class BadBlob(StorageError):
    """A point or latent vector has the wrong length, dtype or non-finite values."""


class BadValue(StorageError):
    """An argument is out of range (a vote that is not a finite number, an unknown source...)."""


class WrongChat(StorageError):
    """A vote names a face that belongs to another chat."""


class RoundClosed(StorageError):
    """A vote (or undo) targets a round that is already closed."""


class SessionClosed(StorageError):
    """An album is recorded into a search session that is already closed."""


class DuplicateMessage(StorageError):
    """A Telegram message id is already attached to another face of the same chat."""


class SchemaTooNew(StorageError):
    """The database was written by a newer fotorobot; this code cannot use it safely."""


class TrainingBusy(StorageError):
    """A training run is already queued or running: one at a time."""
