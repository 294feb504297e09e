"""Typed domain errors, and the one table that says how each is shown and logged.

Services raise these with message ids and parameters, never finished sentences, so the reply is
translated for whoever reads it. The dispatcher is the single boundary that turns them into
replies; anything not listed here is a bug, logged with an id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any


class StartupError(Exception):
    """An adapter could not start (bad token, unreachable API): one clear line for the operator."""


class DomainError(Exception):
    """Base: `code` picks the message in views.errors; `params` fill it."""

    code = "error"

    def __init__(self, **params: Any):
        super().__init__(self.code, params)
        self.params = params


class UsageError(DomainError):
    """Wrong or missing arguments: the reply names the argument and shows the usage."""

    code = "usage"


class PermissionDenied(DomainError):
    code = "permission"


class NotFound(DomainError):
    code = "not_found"


class MemberUnknown(DomainError):
    """An @username nobody has seen: on Telegram they must talk to the bot first."""

    code = "member_unknown"


class InsufficientPoints(DomainError):
    code = "insufficient_points"


class LinkCodeInvalid(DomainError):
    code = "link_code_invalid"


class AlreadyLinked(DomainError):
    code = "already_linked"


class LinkRaisesRole(DomainError):
    """The joining account holds a higher role than the code's issuer: refused, see
    MemberService._check_no_rise."""

    code = "link_raises_role"


class NothingToUnlink(DomainError):
    code = "nothing_to_unlink"


class RoleFromConfig(DomainError):
    """A role granted by config or a platform role can only be changed there."""

    code = "role_from_config"


class StaleAction(DomainError):
    """A button we no longer understand (older version, tampered, or expired)."""

    code = "stale_action"


@dataclass(frozen=True)
class ErrorPolicy:
    log_level: int
    show_usage: bool = False


POLICIES: dict[type[DomainError], ErrorPolicy] = {
    UsageError: ErrorPolicy(logging.DEBUG, show_usage=True),
    PermissionDenied: ErrorPolicy(logging.INFO),
    NotFound: ErrorPolicy(logging.DEBUG),
    MemberUnknown: ErrorPolicy(logging.DEBUG),
    InsufficientPoints: ErrorPolicy(logging.DEBUG),
    LinkCodeInvalid: ErrorPolicy(logging.INFO),
    AlreadyLinked: ErrorPolicy(logging.DEBUG),
    LinkRaisesRole: ErrorPolicy(logging.INFO),
    NothingToUnlink: ErrorPolicy(logging.DEBUG),
    RoleFromConfig: ErrorPolicy(logging.DEBUG),
    StaleAction: ErrorPolicy(logging.INFO),
}


def policy_for(error: DomainError) -> ErrorPolicy:
    for cls in type(error).__mro__:
        if cls in POLICIES:
            return POLICIES[cls]
    return ErrorPolicy(logging.WARNING)
