"""Error replies: what went wrong and how to do it right, in the reader's language."""

from __future__ import annotations

from bot.commands.spec import CommandSpec
from bot.errors import DomainError
from bot.i18n import N_, Translator
from bot.reply import Reply, Text, bold, code
from bot.views.usage import usage_block

_PROBLEMS = {
    "missing": N_("{option} is missing."),
    "twice": N_("{option} was given twice."),
    "not_a_number": N_("{option} must be a whole number, not “{value}”."),
    "out_of_range": N_("{option} must be from {min} to {max}."),
    "too_long": N_("{option} is too long: at most {max} characters."),
    "bad_choice": N_("{option} must be one of: {choices} (not “{value}”)."),
    "bad_id": N_("{option} must be an id like {example}, not “{value}”."),
    "bad_member": N_("{option} must be a member like @name, not “{value}”."),
    "bad_duration": N_("{option} must be a duration like 90m, 2h or 1d, not “{value}”."),
    "bad_date": N_("{option} must be a date like 2026-12-01, not “{value}”."),
    "bad_time": N_("{option} must be a time like 2026-12-01 20:00 (optionally with a zone such "
                   "as Asia/Shanghai or +08:00), not “{value}”."),
    "bad_zone": N_("{option} must be an IANA time zone like Asia/Shanghai or Europe/Lisbon, "
                   "not “{value}”."),
    "unexpected": N_("I did not expect “{value}” there."),
}

_ROLE_NAMES = {
    "member": N_("member"),
    "ambassador": N_("ambassador"),
    "organiser": N_("organiser"),
}


def role_name(t: Translator, code_: str) -> str:
    return t.gettext(_ROLE_NAMES.get(code_, code_))


def render(t: Translator, exc: DomainError, spec: CommandSpec | None, pressed: bool) -> Reply:
    text = Text()
    _describe(t, exc, text)
    if spec is not None:
        text.line("")
        text.add(*usage_block(t, spec))
    return text.reply(error=True, private=True, notice=text_notice(t, exc) if pressed else None)


def _describe(t: Translator, exc: DomainError, text: Text) -> None:
    p = exc.params
    match exc.code:
        case "usage":
            problem = p.get("problem", "missing")
            values = {k: v for k, v in p.items() if k not in ("problem", "command")}
            values["option"] = bold(p.get("option") or "")
            values["value"] = p.get("value", "")
            for bound in ("min", "max"):
                if isinstance(values.get(bound), int):
                    values[bound] = t.number(values[bound])
            text.fmt(t.gettext(_PROBLEMS.get(problem, _PROBLEMS["missing"])), **values)
            if p.get("suggestions"):
                text.line_fmt(t.gettext("“{value}” is a region; zones in it include {zones}."),
                              value=values["value"], zones=p["suggestions"])
        case "permission":
            text.fmt(t.gettext("Only an {role} can do that."), role=role_name(t, p["role"]))
        case "not_found" if p.get("what") == "command":
            text.fmt(t.gettext("There is no command /{name}. Send /help to see what you can "
                               "use."), name=p.get("name", ""))
        case "not_found":
            text.add(t.gettext("I could not find that."))
        case "member_unknown" if p.get("platform") == "telegram":
            text.fmt(t.gettext("I don't know {who} yet: they must first send me a message "
                               "(for example /start in a private chat)."), who=p["who"])
        case "member_unknown":
            text.fmt(t.gettext("I don't know {who}."), who=p["who"])
        case "insufficient_points":
            text.fmt(t.gettext("That needs {amount} points, but the balance is only {balance}."),
                     amount=bold(t.number(p["amount"])), balance=bold(t.number(p["balance"])))
        case "link_code_invalid":
            minutes = p.get("minutes", 10)
            text.fmt(t.ngettext(
                "That link code is unknown, used or expired. Send /link on your other account "
                "to get a new one (a code lasts {n} minute).",
                "That link code is unknown, used or expired. Send /link on your other account "
                "to get a new one (a code lasts {n} minutes).", minutes), n=t.number(minutes))
        case "already_linked":
            text.add(t.gettext("These accounts are already linked: they share one member."))
        case "link_raises_role":
            text.fmt(t.gettext("This account has the {role} role and the account that made the "
                               "code has only the {issuer_role} role. Linking this way round "
                               "would give the {role} role to that account too, so I won't do "
                               "it. Send /link on this account instead and use its code on "
                               "the other account."),
                     role=role_name(t, p["role"]), issuer_role=role_name(t, p["issuer_role"]))
        case "nothing_to_unlink":
            text.add(t.gettext("This account is not linked to any other account."))
        case "role_from_config":
            text.fmt(t.gettext("That {role} role comes from the bot's configuration ([roles] "
                               "in config.toml) and can only be removed there."),
                     role=role_name(t, p["role"]))
        case "stale_action":
            text.add(t.gettext("This button no longer works. Please run the command again."))
        case _:
            text.add(t.gettext("That did not work."))


def text_notice(t: Translator, exc: DomainError) -> str:
    text = Text()
    _describe(t, exc, text)
    return Reply(spans=tuple(text.spans)).plain_text[:190]


def unexpected(t: Translator, error_id: str) -> Reply:
    text = Text().fmt(t.gettext("Sorry, something went wrong on my side. If it happens again, "
                                "tell an organiser the error id {id}."), id=code(error_id))
    return text.reply(error=True, private=True,
                      notice=t.gettext("Sorry, something went wrong."))
