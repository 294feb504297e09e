"""Text (or a platform's named options) into typed arguments, by a command's spec.

Positional words fill options in order; `name=value` fills one by name; double quotes group
words; a `rest` option takes the rest of the line. Every failure is a UsageError naming the
option and what was wrong, so the reply can say how to do it right.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

from bot import zones
from bot.errors import UsageError
from bot.ids import BadId, EntityId, format_id, kinds_of, parse_id
from bot.model import Platform, Target
from bot.spec import CommandSpec, Kind, Opt


@dataclass(frozen=True)
class Token:
    value: str
    start: int
    name: str | None = None


_NAMED = re.compile(r"([a-z_]{1,32})=")


def tokenize(text: str) -> list[Token]:
    """Split on white space, honouring double quotes; an unclosed quote runs to the end."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, name = i, None
        match = _NAMED.match(text, i)
        if match:
            name, i = match.group(1), match.end()
        value, i = _read_word(text, i)
        tokens.append(Token(value, start, name))
    return tokens


def _read_word(text: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    n = len(text)
    while i < n and not text[i].isspace():
        if text[i] == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end
            out.append(text[i + 1 : end])
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out), i


def clean_text(value: str) -> str:
    """Drop control characters (NUL breaks PostgreSQL text, others break chat rendering)."""
    return "".join(
        ch for ch in value
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    ).strip()


def assign(spec: CommandSpec, text: str) -> dict[str, str]:
    """Map the raw words of a command line to option names, without converting them yet."""
    tokens = tokenize(text)
    raw: dict[str, str] = {}
    positional: list[Token] = []
    for token in tokens:
        if token.name and spec.option(token.name):
            if token.name in raw:
                raise UsageError(option=token.name, problem="twice")
            raw[token.name] = token.value
        else:
            positional.append(token if not token.name else Token(
                text[token.start:_token_end(text, token)], token.start))
    free = [o for o in spec.options if o.name not in raw]
    index = 0
    for opt in free:
        if index >= len(positional):
            break
        if opt.rest:
            raw[opt.name] = _rest_of_line(text, positional[index:])
            index = len(positional)
            break
        taken = _words_for(opt, positional, index)
        raw[opt.name] = " ".join(t.value for t in positional[index : index + taken])
        index += taken
    if index < len(positional):
        raise UsageError(option=None, problem="unexpected", value=positional[index].value[:40])
    return raw


def _token_end(text: str, token: Token) -> int:
    _value, end = _read_word(text, token.start)
    return end


def _rest_of_line(text: str, tokens: list[Token]) -> str:
    if len(tokens) == 1:
        return tokens[0].value
    return text[tokens[0].start :].strip()


_DATE_WORD = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_WORD = re.compile(r"^\d{1,2}:\d{2}$")
_ZONE_WORD = re.compile(r"^(Z|UTC|GMT|[+-]\d{1,2}(:?\d{2})?|[A-Za-z_]+/[A-Za-z_+\-/0-9]+)$")


def _words_for(opt: Opt, tokens: list[Token], index: int) -> int:
    """How many words one option takes: a date-time may be written unquoted as up to three."""
    if opt.kind != Kind.DATETIME:
        return 1
    taken = 1
    if _DATE_WORD.match(tokens[index].value) and index + 1 < len(tokens) \
            and _TIME_WORD.match(tokens[index + 1].value):
        taken = 2
    has_time = "T" in tokens[index].value or taken == 2
    if has_time and index + taken < len(tokens) and _ZONE_WORD.match(tokens[index + taken].value):
        taken += 1
    return taken


# -- converters ------------------------------------------------------------------------------

def convert(opt: Opt, value: str, *, platform: Platform, tz: tzinfo, now: datetime):
    """One raw value into its typed form, or a UsageError that names the option."""
    value = clean_text(value)
    if value == "":
        raise UsageError(option=opt.name, problem="missing")
    converter = _CONVERTERS[opt.kind]
    return converter(opt, value, platform=platform, tz=tz, now=now)


def _int(opt: Opt, value: str, **_) -> int:
    digits = value.replace(",", "").replace("_", "")
    if not re.fullmatch(r"[+-]?\d{1,12}", digits):
        raise UsageError(option=opt.name, problem="not_a_number", value=value[:40])
    number = int(digits)
    low = opt.min if opt.min is not None else -(10**12)
    high = opt.max if opt.max is not None else 10**12
    if not low <= number <= high:
        raise UsageError(option=opt.name, problem="out_of_range", min=low, max=high)
    return number


def _text(opt: Opt, value: str, **_) -> str:
    if len(value) > opt.max_len:
        raise UsageError(option=opt.name, problem="too_long", max=opt.max_len)
    return value


def _choice(opt: Opt, value: str, **_) -> str:
    lowered = value.lower()
    if lowered not in opt.choices:
        raise UsageError(option=opt.name, problem="bad_choice", value=value[:40],
                         choices=", ".join(opt.choices))
    return lowered


def _ident(opt: Opt, value: str, **_) -> EntityId:
    """`B12`, `b12`, or `12` when the option takes one kind (bot.ids.parse_id). The errors'
    `kinds`/`kind` are letters and `example` a list of ids; bot.views.errors words them."""
    kinds = kinds_of(opt.id_kinds)
    try:
        return parse_id(value, kinds)
    except BadId as exc:
        shown = value[:40]
        if exc.reason == "ambiguous":  # the number they typed, with each letter it could take
            raise UsageError(option=opt.name, problem="ambiguous_id", value=shown,
                             kinds=tuple(kinds),
                             example=tuple(format_id(k, int(value)) for k in kinds)) from None
        examples = tuple(kind.example for kind in kinds)
        if exc.reason == "wrong_kind" and exc.found is not None:
            raise UsageError(option=opt.name, problem="wrong_id_kind", value=str(exc.found),
                             kind=exc.found.kind.value, kinds=tuple(kinds),
                             example=examples) from None
        raise UsageError(option=opt.name, problem="bad_id", value=shown,
                         example=examples) from None


_MENTION = re.compile(r"^<@!?(\d{5,25})>$")
_PLATFORM_ID = re.compile(r"^(telegram|discord|console):(-?[\w.\-]{1,64})$")
_USERNAME = re.compile(r"^@([A-Za-z0-9_.\-]{1,64})$")


def _member(opt: Opt, value: str, *, platform: Platform, **_) -> Target:
    if match := _PLATFORM_ID.match(value):
        return Target(Platform(match.group(1)), user_id=match.group(2))
    if match := _MENTION.match(value):
        return Target(Platform.DISCORD, user_id=match.group(1))
    if match := _USERNAME.match(value):
        return Target(platform, username=match.group(1))
    raise UsageError(option=opt.name, problem="bad_member", value=value[:40])


_DURATION = re.compile(r"^(?:(\d{1,4})d)?(?:(\d{1,5})h)?(?:(\d{1,6})m)?$")


def _duration(opt: Opt, value: str, **_) -> timedelta:
    match = _DURATION.match(value.lower())
    if not match or not any(match.groups()):
        raise UsageError(option=opt.name, problem="bad_duration", value=value[:40])
    days, hours, minutes = (int(g or 0) for g in match.groups())
    result = timedelta(days=days, hours=hours, minutes=minutes)
    if result <= timedelta(0):
        raise UsageError(option=opt.name, problem="bad_duration", value=value[:40])
    return result


def _date(opt: Opt, value: str, **_) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(option=opt.name, problem="bad_date", value=value[:40]) from None


_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{1,2}:\d{2})(?::\d{2})?\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?"
    r"|[A-Za-z_]+(?:/[A-Za-z_+\-0-9]+)+)?$"
)


def _datetime(opt: Opt, value: str, *, tz: tzinfo, **_) -> datetime:
    """`2026-12-01 20:00`, `…T20:00`, with an optional zone or offset; else the caller's zone."""
    match = _DATETIME.match(value.strip())
    if not match:
        raise UsageError(option=opt.name, problem="bad_time", value=value[:40])
    day, clock, zone = match.groups()
    try:
        naive = datetime.fromisoformat(f"{day}T{int(clock.split(':')[0]):02d}:{clock[-2:]}")
        zone_info = _zone(zone) if zone else tz
    except zones.UnknownZone as exc:
        raise UsageError(option=opt.name, problem="bad_zone", value=exc.name[:40],
                         suggestions=", ".join(exc.suggestions)) from None
    except ValueError:
        raise UsageError(option=opt.name, problem="bad_time", value=value[:40]) from None
    _check_wall_time(opt, naive, zone_info)
    return naive.replace(tzinfo=zone_info).astimezone(UTC)


def _check_wall_time(opt: Opt, naive: datetime, zone: tzinfo) -> None:
    """A local time a daylight-saving change skips (02:30 on a spring-forward night) or
    repeats (01:30 on a fall-back night) is refused with the reason, never guessed."""
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return
    shown = naive.strftime("%Y-%m-%d %H:%M")
    name = str(zone)
    back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:
        raise UsageError(option=opt.name, problem="skipped_time", value=shown, zone=name)
    raise UsageError(option=opt.name, problem="repeated_time", value=shown, zone=name,
                     first=f"{shown}{_offset(first)}", second=f"{shown}{_offset(second)}")


def _offset(moment: datetime) -> str:
    minutes = int(moment.utcoffset().total_seconds() // 60)
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _zone(text: str) -> tzinfo:
    if text in ("Z", "UTC", "GMT"):
        return UTC
    if text[0] in "+-":
        sign = -1 if text[0] == "-" else 1
        digits = text[1:].replace(":", "")
        hours, minutes = int(digits[:-2] or digits) if len(digits) > 2 else int(digits), 0
        if len(digits) > 2:
            minutes = int(digits[-2:])
        if hours > 14 or minutes >= 60:
            raise ValueError(text)
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    return zones.lookup(text)


_CONVERTERS = {
    Kind.INT: _int, Kind.POINTS: _int, Kind.TEXT: _text, Kind.CHOICE: _choice,
    Kind.ID: _ident, Kind.MEMBER: _member, Kind.DURATION: _duration, Kind.DATE: _date,
    Kind.DATETIME: _datetime,
}

