"""Typed domain errors: the one table of what can go wrong, and how each is shown and logged.

Each class declares, in one place, its message (a msgid, filled with the error's parameters
after translation), the log level, and whether the command's usage follows it. Services raise
them with parameters, never finished sentences, so the reply is translated for whoever reads
it; the dispatcher is the single boundary that turns them into replies (bot.views.errors).
A feature adds its errors the same way, in its own module. Anything else is a bug, logged with
an id.
"""

from __future__ import annotations

import logging
import os
import re
import ssl
from dataclasses import dataclass
from typing import Any, ClassVar

from bot.i18n import N_


class StartupError(Exception):
    """An adapter could not start (bad token, unreachable API): one clear line for the operator."""


# Connection and file errors, said in a few words for those one-line start-up messages.
_ERRNO = re.compile(r"\[Errno (-?\d+)\]")


def os_reason(exc: BaseException) -> str:
    """A network or file error in a few words: "connection refused", "timed out",
    "name or service not known" (not "[Errno 111] Connect call failed ('127.0.0.1', 1)")."""
    inner = getattr(exc, "os_error", None)  # aiohttp's ClientConnectorError carries the cause
    if isinstance(inner, OSError) and inner is not exc:
        exc = inner
    if isinstance(exc, ssl.SSLCertVerificationError):
        text = exc.verify_message or exc.reason or str(exc)
    elif isinstance(exc, ssl.SSLError):
        text = exc.reason or str(exc)
    elif isinstance(exc, TimeoutError) and not exc.errno:
        text = "timed out"
    elif isinstance(exc, OSError):
        number = exc.errno if exc.errno is not None else _errno_in(str(exc))
        if number is not None and number > 0:
            text = os.strerror(number)
        else:  # getaddrinfo's codes are negative: its own text says it
            text = exc.strerror or first_line(exc)
    else:
        text = first_line(exc)
    return _lower_first(text)


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _errno_in(text: str) -> int | None:
    """asyncio's "Multiple exceptions: [Errno 111] …, [Errno 111] …" has no errno of its own."""
    numbers = set(_ERRNO.findall(text))
    return int(numbers.pop()) if len(numbers) == 1 else None


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


@dataclass(frozen=True)
class Plural:
    """A message whose wording depends on a count: ngettext(singular, plural, params[count]).
    `campusbot i18n extract` reads `Plural("…", "…", …)` as a plural msgid, like ngettext."""

    singular: str
    plural: str
    count: str


Message = str | Plural


class DomainError(Exception):
    """Base. Subclasses set `message` (or override `template` when the wording depends on the
    parameters); `roles` names parameters holding a role code, shown as the role's name;
    `notes` are extra lines shown under the message when their parameter is present."""

    message: ClassVar[Message] = N_("That did not work.")
    log_level: ClassVar[int] = logging.DEBUG
    show_usage: ClassVar[bool] = False
    roles: ClassVar[tuple[str, ...]] = ()
    notes: ClassVar[tuple[tuple[str, str], ...]] = ()  # (parameter, msgid)

    def __init__(self, **params: Any):
        super().__init__(type(self).__name__, params)
        self.params = params

    def template(self) -> Message:
        return self.message


class UsageError(DomainError):
    """Wrong or missing arguments: the reply names the argument and shows the usage."""

    show_usage = True
    # Whole sentences: what was wrong and how to write it. `{option}` is the argument's
    # translated label in bold (Opt.label: "amount", "数量"), `{key}` its contract name as
    # written in `name=value`; the usage follows each of them.
    PROBLEMS: ClassVar[dict[str, str]] = {
        "missing": N_("The {option} is missing."),
        "twice": N_("You gave the {option} twice ({key}); give it once."),
        "not_a_number": N_("Write the {option} as a whole number, such as 50 (you wrote "
                           "“{value}”)."),
        "out_of_range": N_("The {option} must be from {min} to {max}."),
        "too_long": N_("The {option} is too long: write at most {max} characters."),
        "bad_choice": N_("The {option} must be {choices} (you wrote “{value}”)."),
        "bad_id": N_("Write the {option} as an id such as {example} (you wrote “{value}”)."),
        # TRANSLATORS: {kinds} is a list of kinds of object ("a bounty, a reward, or an
        # event"); {example} the number that was typed, with each letter ("B12, R12, or E12").
        "ambiguous_id": N_("A bare number could be {kinds}: write the {option} with its "
                           "letter, such as {example}."),
        # TRANSLATORS: {value} is an id such as R3; {kind} what it is ("a reward"); {kinds}
        # what the command needs ("a bounty" or "a bounty or an event"); {example} like B12.
        "wrong_id_kind": N_("{value} is {kind}, but the {option} must be {kinds}, such as "
                            "{example}."),
        "bad_member": N_("Write the {option} as @name (you wrote “{value}”)."),
        "bad_duration": N_("Write the {option} as a duration such as 90m, 2h or 1d (you wrote "
                           "“{value}”)."),
        "bad_date": N_("Write the {option} as a date such as 2026-12-01 (you wrote “{value}”)."),
        "bad_time": N_("Write the {option} as a date and time such as 2026-12-01 20:00, "
                       "optionally followed by a time zone such as Asia/Shanghai or +08:00 (you "
                       "wrote “{value}”)."),
        # TRANSLATORS: {value} is a local time such as 2026-03-29 02:30; {zone} its zone.
        "skipped_time": N_("{value} does not exist in {zone}: the clocks jump forward over it "
                           "that night. Give a time an hour later or earlier."),
        "repeated_time": N_("{value} happens twice in {zone}, when the clocks go back that "
                            "night. Write it with its offset, such as {first} or {second}."),
        "bad_zone": N_("Write the {option} as an IANA time zone such as Asia/Shanghai or "
                       "Europe/Lisbon (you wrote “{value}”)."),
        "unexpected": N_("I did not expect “{value}” there: the usage below shows what the "
                         "command takes."),
    }
    notes = (("suggestions", N_("“{value}” is a region; zones in it include {suggestions}.")),)

    def template(self) -> Message:
        return self.PROBLEMS.get(self.params.get("problem", "missing"), self.PROBLEMS["missing"])


class PermissionDenied(DomainError):
    message = N_("Only an {role} can do that.")
    log_level = logging.INFO
    roles = ("role",)


class NotFound(DomainError):
    message = N_("I could not find that.")

    def template(self) -> Message:
        if self.params.get("what") == "command":
            return N_("There is no command /{name}. Send /help to see what you can use.")
        return self.message


class MemberUnknown(DomainError):
    """An @username nobody has seen: on Telegram they must talk to the bot first."""

    message = N_("I don't know {who}.")

    def template(self) -> Message:
        if self.params.get("platform") == "telegram":
            return N_("I don't know {who} yet: they must first send me a message (for example "
                      "/start in a private chat).")
        return self.message


class InsufficientPoints(DomainError):
    message = N_("That needs {amount} points, but the balance is only {balance}.")


class LinkCodeInvalid(DomainError):
    message = Plural(
        "That link code is unknown, used or expired. Send /link on your other account to get "
        "a new one (a code lasts {minutes} minute).",
        "That link code is unknown, used or expired. Send /link on your other account to get "
        "a new one (a code lasts {minutes} minutes).",
        "minutes")
    log_level = logging.INFO


class AlreadyLinked(DomainError):
    message = N_("These accounts are already linked: they share one member.")


class LinkRaisesRole(DomainError):
    """The joining account holds a higher role than the code's issuer: refused, see
    MemberService._check_no_rise."""

    message = N_("This account has the {role} role and the account that made the code has "
                 "only the {issuer_role} role. Linking this way round would give the {role} "
                 "role to that account too, so I won't do it. Send /link on this account "
                 "instead and use its code on the other account.")
    log_level = logging.INFO
    roles = ("role", "issuer_role")


class NothingToUnlink(DomainError):
    message = N_("This account is not linked to any other account.")


class RoleFromConfig(DomainError):
    """A role granted by config or a platform role can only be changed there."""

    message = N_("That {role} role comes from the bot's configuration ([roles] in "
                 "config.toml) and can only be removed there.")
    roles = ("role",)


class StaleAction(DomainError):
    """A button we no longer understand (older version, tampered, or expired)."""

    message = N_("This button no longer works. Please run the command again.")
    log_level = logging.INFO
