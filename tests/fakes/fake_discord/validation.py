"""Discord's payload rules: the limits that make the real API answer 400/50035 or 50006.

Why: these rules catch the bot's bugs (content over 2,000 characters, a sixth action row,
duplicate custom ids, an invalid command schema) in tests rather than in production. They are
pure functions over JSON, used by the REST, command and interaction routes, so they live apart
from the server and its state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .protocol import IS_COMPONENTS_V2, JSON, LOCALES, SELECT_TYPES, ApiError

COMMAND_NAME = re.compile(r"[-_\w]{1,32}")


class FormErrors:
    """Collects field errors and raises them as one 400/50035 "Invalid Form Body"."""

    def __init__(self) -> None:
        self.items: list[tuple[tuple[str, ...], str, str]] = []

    def add(self, path: Sequence[str | int], code: str, message: str) -> None:
        self.items.append((tuple(str(p) for p in path), code, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def to_dict(self) -> JSON:
        root: JSON = {}
        for path, code, message in self.items:
            node = root
            for part in path:
                node = node.setdefault(part, {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        return root

    def raise_if_any(self) -> None:
        if self.items:
            raise ApiError(400, 50035, "Invalid Form Body", self.to_dict())


def _check_len(
    errors: FormErrors,
    path: Sequence[str | int],
    value: Any,
    *,
    max_len: int,
    min_len: int = 0,
    required: bool = False,
) -> None:
    if value is None:
        if required:
            errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        return
    if not isinstance(value, str):
        errors.add(path, "BASE_TYPE_STRING", "Must be a string.")
        return
    if min_len <= len(value) <= max_len:
        return
    if min_len:
        message = f"Must be between {min_len} and {max_len} in length."
        errors.add(path, "BASE_TYPE_BAD_LENGTH", message)
    else:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {max_len} or fewer in length.")


Sized = Sequence[Any] | Mapping[str, Any]


def _check_count(errors: FormErrors, path: Sequence[str | int], items: Sized, limit: int) -> None:
    if len(items) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def validate_embeds(embeds: Any, errors: FormErrors, path: tuple[str, ...]) -> None:
    """Embed limits: 10 embeds, title 256, description 4096, 25 fields, 6000 characters total."""
    if not isinstance(embeds, list):
        return
    _check_count(errors, path, embeds, 10)
    total = 0
    for index, embed in enumerate(embeds):
        here = (*path, str(index))
        _check_len(errors, (*here, "title"), embed.get("title"), max_len=256)
        _check_len(errors, (*here, "description"), embed.get("description"), max_len=4096)
        fields = embed.get("fields") or []
        _check_count(errors, (*here, "fields"), fields, 25)
        for number, item in enumerate(fields):
            spot = (*here, "fields", str(number))
            _check_len(
                errors, (*spot, "name"), item.get("name"), max_len=256, min_len=1, required=True
            )
            _check_len(
                errors, (*spot, "value"), item.get("value"), max_len=1024, min_len=1, required=True
            )
            total += len(str(item.get("name") or "")) + len(str(item.get("value") or ""))
        footer = (embed.get("footer") or {}).get("text")
        author = (embed.get("author") or {}).get("name")
        _check_len(errors, (*here, "footer", "text"), footer, max_len=2048)
        _check_len(errors, (*here, "author", "name"), author, max_len=256)
        for text in (embed.get("title"), embed.get("description"), footer, author):
            total += len(text) if isinstance(text, str) else 0
    if total > 6000:
        errors.add(path, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def _validate_interactive(
    component: JSON, errors: FormErrors, path: tuple[str, ...], seen: set[str]
) -> None:
    kind = component.get("type")
    custom_id = component.get("custom_id")
    if kind == 2:
        style = component.get("style")
        if style not in (1, 2, 3, 4, 5, 6):
            errors.add(
                (*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4, 5, 6)."
            )
        if style == 5:
            if not component.get("url"):
                errors.add((*path, "url"), "BUTTON_COMPONENT_URL_REQUIRED", "A url is required")
            if custom_id is not None:
                errors.add(
                    (*path, "custom_id"),
                    "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                    "A custom id cannot be set on link buttons",
                )
        elif style != 6:
            _check_len(
                errors, (*path, "custom_id"), custom_id, max_len=100, min_len=1, required=True
            )
        _check_len(errors, (*path, "label"), component.get("label"), max_len=80)
        if style != 6 and not component.get("label") and not component.get("emoji"):
            errors.add(
                path, "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A label or emoji is required"
            )
    elif kind in SELECT_TYPES:
        _check_len(errors, (*path, "custom_id"), custom_id, max_len=100, min_len=1, required=True)
        _check_len(errors, (*path, "placeholder"), component.get("placeholder"), max_len=150)
        if kind == 3:
            options = component.get("options") or []
            if not options:
                errors.add(
                    (*path, "options"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."
                )
            _check_count(errors, (*path, "options"), options, 25)
            for number, option in enumerate(options):
                spot = (*path, "options", str(number))
                _check_len(
                    errors,
                    (*spot, "label"),
                    option.get("label"),
                    max_len=100,
                    min_len=1,
                    required=True,
                )
                _check_len(
                    errors,
                    (*spot, "value"),
                    option.get("value"),
                    max_len=100,
                    min_len=1,
                    required=True,
                )
                _check_len(errors, (*spot, "description"), option.get("description"), max_len=100)
    elif kind == 4:
        errors.add(
            (*path, "type"), "COMPONENT_TYPE_INVALID", "Text inputs are only allowed in modals"
        )
    if isinstance(custom_id, str):
        if custom_id in seen:
            errors.add(
                (*path, "custom_id"),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)


def _validate_rows(components: list[JSON], errors: FormErrors, path: tuple[str, ...]) -> None:
    _check_count(errors, path, components, 5)
    seen: set[str] = set()
    for number, row in enumerate(components):
        here = (*path, str(number))
        if row.get("type") != 1:
            errors.add(
                (*here, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).'
            )
            continue
        children = row.get("components") or []
        if not children:
            errors.add(
                (*here, "components"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."
            )
        _check_count(errors, (*here, "components"), children, 5)
        width = 0
        for index, child in enumerate(children):
            _validate_interactive(child, errors, (*here, "components", str(index)), seen)
            width += 5 if child.get("type") in SELECT_TYPES else 1
        if width > 5:
            errors.add(
                (*here, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )


def _walk_v2(
    components: list[JSON], errors: FormErrors, path: tuple[str, ...], seen: set[str]
) -> int:
    count = 0
    for number, component in enumerate(components):
        here = (*path, str(number))
        count += 1
        _validate_interactive(component, errors, here, seen)
        children = list(component.get("components") or [])
        count += _walk_v2(children, errors, (*here, "components"), seen)
        accessory = component.get("accessory")
        if isinstance(accessory, dict):
            count += _walk_v2([accessory], errors, (*here, "accessory"), seen)
    return count


def validate_message(
    payload: JSON,
    prefix: tuple[str, ...] = (),
    *,
    creating: bool,
    has_files: bool = False,
) -> None:
    """Apply Discord's message limits; raise ApiError 50035, or 50006 for an empty message."""
    errors = FormErrors()
    flags = int(payload.get("flags") or 0)
    content = payload.get("content")
    components = payload.get("components") or []
    if flags & IS_COMPONENTS_V2:
        if content or payload.get("embeds"):
            errors.add(
                (*prefix, "content"),
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                "The 'content' and 'embeds' fields cannot be used with components v2",
            )
        total = _walk_v2(list(components), errors, (*prefix, "components"), set())
        if total > 40:
            errors.add(
                (*prefix, "components"),
                "COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED",
                "The total number of components must be 40 or fewer",
            )
    else:
        _check_len(errors, (*prefix, "content"), content, max_len=2000)
        _validate_rows(list(components), errors, (*prefix, "components"))
    validate_embeds(payload.get("embeds"), errors, (*prefix, "embeds"))
    mentions = payload.get("allowed_mentions")
    if isinstance(mentions, dict):
        parse = mentions.get("parse") or []
        for kind in ("users", "roles"):
            if kind in parse and mentions.get(kind):
                errors.add(
                    (*prefix, "allowed_mentions"),
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                )
            listed = mentions.get(kind) or []
            _check_count(errors, (*prefix, "allowed_mentions", kind), listed, 100)
    errors.raise_if_any()
    if creating and _is_empty(payload, has_files):
        raise ApiError(400, 50006, "Cannot send an empty message")


def _is_empty(payload: JSON, has_files: bool) -> bool:
    content = payload.get("content")
    has_text = isinstance(content, str) and content.strip() != ""
    others = ("embeds", "components", "sticker_ids", "poll", "attachments")
    return not (has_text or has_files or any(payload.get(key) for key in others))


def validate_modal(data: JSON, prefix: tuple[str, ...]) -> None:
    """Modal limits: title 45, custom_id 100, 1..5 top-level components, text inputs' lengths."""
    errors = FormErrors()
    _check_len(errors, (*prefix, "title"), data.get("title"), max_len=45, min_len=1, required=True)
    _check_len(
        errors,
        (*prefix, "custom_id"),
        data.get("custom_id"),
        max_len=100,
        min_len=1,
        required=True,
    )
    components = data.get("components") or []
    if not components:
        errors.add((*prefix, "components"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.")
    _check_count(errors, (*prefix, "components"), components, 5)
    for number, item in enumerate(components):
        here = (*prefix, "components", str(number))
        if item.get("type") == 18:
            _check_len(
                errors, (*here, "label"), item.get("label"), max_len=45, min_len=1, required=True
            )
            _check_len(errors, (*here, "description"), item.get("description"), max_len=100)
            inner = [item.get("component") or {}]
        else:
            inner = item.get("components") or []
        for index, child in enumerate(inner):
            spot = (*here, "components", str(index))
            _check_len(errors, (*spot, "custom_id"), child.get("custom_id"), max_len=100)
            if child.get("type") == 4:
                _check_len(errors, (*spot, "label"), child.get("label"), max_len=45)
                _check_len(errors, (*spot, "placeholder"), child.get("placeholder"), max_len=100)
                _check_len(errors, (*spot, "value"), child.get("value"), max_len=4000)
    errors.raise_if_any()


def validate_choices(choices: Any, errors: FormErrors, path: tuple[str, ...]) -> None:
    """Choices (static or autocomplete): 25 at most, name 1..100, string value <= 100."""
    if not isinstance(choices, list):
        errors.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    _check_count(errors, path, choices, 25)
    for number, choice in enumerate(choices):
        here = (*path, str(number))
        _check_len(
            errors, (*here, "name"), choice.get("name"), max_len=100, min_len=1, required=True
        )
        for locale, text in (choice.get("name_localizations") or {}).items():
            _check_locale(errors, (*here, "name_localizations", locale), locale)
            _check_len(errors, (*here, "name_localizations", locale), text, max_len=100, min_len=1)
        value = choice.get("value")
        if isinstance(value, str):
            _check_len(errors, (*here, "value"), value, max_len=100)


def _check_locale(errors: FormErrors, path: tuple[str, ...], locale: str) -> None:
    if locale not in LOCALES:
        errors.add(path, "BASE_TYPE_CHOICES", f"Value must be one of {sorted(LOCALES)}.")


def _check_command_name(errors: FormErrors, path: tuple[str, ...], name: Any) -> None:
    if not isinstance(name, str) or not COMMAND_NAME.fullmatch(name) or name != name.lower():
        errors.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _check_localizations(
    errors: FormErrors, path: tuple[str, ...], item: JSON, *, chat_input: bool
) -> None:
    for locale, text in (item.get("name_localizations") or {}).items():
        spot = (*path, "name_localizations", locale)
        _check_locale(errors, spot, locale)
        if chat_input:
            _check_command_name(errors, spot, text)
        else:
            _check_len(errors, spot, text, max_len=32, min_len=1)
    for locale, text in (item.get("description_localizations") or {}).items():
        spot = (*path, "description_localizations", locale)
        _check_locale(errors, spot, locale)
        _check_len(errors, spot, text, max_len=100, min_len=1)


def _validate_options(
    options: Any, errors: FormErrors, path: tuple[str, ...], parent_type: int | None
) -> None:
    if not isinstance(options, list):
        errors.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    _check_count(errors, path, options, 25)
    kinds = {"sub" if opt.get("type") in (1, 2) else "value" for opt in options}
    if len(kinds) > 1:
        errors.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to "
            "all other types",
        )
    names: set[str] = set()
    optional_seen = False
    for number, option in enumerate(options):
        here = (*path, str(number))
        kind = option.get("type")
        if kind not in range(1, 12):
            errors.add((*here, "type"), "BASE_TYPE_CHOICES", "Value must be one of (1..11).")
            continue
        _check_command_name(errors, (*here, "name"), option.get("name"))
        _check_len(
            errors,
            (*here, "description"),
            option.get("description"),
            max_len=100,
            min_len=1,
            required=True,
        )
        _check_localizations(errors, here, option, chat_input=True)
        if option.get("name") in names:
            errors.add(
                (*here, "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(option.get("name"))
        if (kind == 2 and parent_type is not None) or (kind == 1 and parent_type == 1):
            errors.add(
                (*here, "type"),
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-commands can only be nested in sub-command groups once",
            )
        if kind in (1, 2):
            _validate_options(option.get("options") or [], errors, (*here, "options"), kind)
            continue
        if parent_type == 2:
            errors.add(
                (*here, "type"),
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-command groups can only contain sub-commands",
            )
        if option.get("required"):
            if optional_seen:
                errors.add(
                    (*here, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        if option.get("choices") is not None:
            validate_choices(option["choices"], errors, (*here, "choices"))
            if option.get("autocomplete"):
                errors.add(
                    (*here, "autocomplete"),
                    "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE",
                    "Autocomplete cannot be set for options with choices",
                )


def _longest(item: JSON, key: str) -> int:
    values = [item.get(key), *(item.get(f"{key}_localizations") or {}).values()]
    return max((len(str(v)) for v in values if v is not None), default=0)


def command_size(item: JSON) -> int:
    """Discord's size rule: names, descriptions and choice values, longest locale of each."""
    total = _longest(item, "name") + _longest(item, "description")
    for choice in item.get("choices") or []:
        total += _longest(choice, "name") + len(str(choice.get("value", "")))
    for option in item.get("options") or []:
        total += command_size(option)
    return total


def validate_command(command: JSON, errors: FormErrors, path: tuple[str, ...]) -> None:
    """One command's rules: name, description, localizations, options and the 8000 size."""
    kind = command.get("type", 1)
    if kind not in (1, 2, 3, 4):
        errors.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4).")
        return
    if kind == 1:
        _check_command_name(errors, (*path, "name"), command.get("name"))
        _check_len(
            errors,
            (*path, "description"),
            command.get("description"),
            max_len=100,
            min_len=1,
            required=True,
        )
        _validate_options(command.get("options") or [], errors, (*path, "options"), None)
    else:
        _check_len(
            errors, (*path, "name"), command.get("name"), max_len=32, min_len=1, required=True
        )
        _check_len(errors, (*path, "description"), command.get("description") or None, max_len=0)
    _check_localizations(errors, path, command, chat_input=kind == 1)
    permissions = command.get("default_member_permissions")
    if permissions is not None and not str(permissions).isdigit():
        errors.add(
            (*path, "default_member_permissions"),
            "NUMBER_TYPE_COERCE",
            f'Value "{permissions}" is not snowflake.',
        )
    if command_size(command) > 8000:
        errors.add(path, "APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size (8000)")


def validate_command_list(commands: Any) -> None:
    """Bulk overwrite rules: each command valid, names unique per type, 100/5/5 caps."""
    errors = FormErrors()
    if not isinstance(commands, list):
        errors.add((), "BASE_TYPE_ARRAY", "Must be an array.")
        errors.raise_if_any()
    seen: set[tuple[int, str]] = set()
    counts = {1: 0, 2: 0, 3: 0, 4: 0}
    for number, command in enumerate(commands):
        validate_command(command, errors, (str(number),))
        kind = command.get("type", 1)
        key = (kind, str(command.get("name")))
        if key in seen:
            errors.add(
                (str(number), "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add(key)
        counts[kind] = counts.get(kind, 0) + 1
    for kind, limit, label in ((1, 100, "chat input"), (2, 5, "user"), (3, 5, "message")):
        if counts[kind] > limit:
            errors.add(
                (),
                "APPLICATION_COMMANDS_TOO_MANY",
                f"Maximum number of {label} application commands reached ({limit})",
            )
    errors.raise_if_any()


COMMAND_FIELDS = (
    "name",
    "type",
    "description",
    "options",
    "name_localizations",
    "description_localizations",
    "default_member_permissions",
    "nsfw",
    "contexts",
    "integration_types",
    "dm_permission",
)


def command_signature(command: JSON) -> str:
    """A canonical form of the user-defined fields, used to tell a changed command apart."""
    fields = {key: command.get(key) for key in COMMAND_FIELDS}
    fields["type"] = fields["type"] or 1
    fields["options"] = fields["options"] or []
    fields["description"] = fields["description"] or ""
    return json.dumps(fields, sort_keys=True, default=str)
