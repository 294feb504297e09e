"""The dispatcher: one path from an Invocation to a Reply, for every adapter.

It resolves the caller, binds their locale, checks the role (for button presses too), parses the
arguments by the spec, runs the handler, and is the single place where errors become replies.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import replace
from typing import Any

from bot import actions, errors
from bot.commands.context import Ctx
from bot.commands.parse import assign, clean_text, convert
from bot.dialogues import Pending
from bot.i18n import negotiate, translator
from bot.model import Invocation, Platform, Role, Target
from bot.reply import FORM_PREFIX, Form, Reply, Span, code
from bot.services.container import Services
from bot.services.members import Caller
from bot.spec import CommandSpec, Kind, Opt, Registry
from bot.views import dialogue as dialogue_views
from bot.views import errors as error_views
from bot.views import general as general_views
from bot.views.general import language_note

log = logging.getLogger(__name__)

# Platforms whose clients may not tell us the member's language: Discord has no Arabic or Malay
# client locale (https://discord.com/developers/docs/reference#locales), so a newcomer's first
# answer there is followed by a private note on /language.
LANGUAGE_NOTE_PLATFORMS = frozenset({Platform.DISCORD})


class Dispatcher:
    def __init__(self, services: Services, registry: Registry):
        self.services = services
        self.registry = registry

    async def handle(self, inv: Invocation) -> Reply | None:
        """Answer one invocation. Never raises: every failure is a translated reply."""
        ctx = None
        try:
            caller = await self.services.members.resolve(inv.actor)
            ctx = self._context(inv, caller)
            if inv.action is not None:
                return await self._press(ctx, inv.action)
            if inv.command is not None:
                if inv.command != "cancel":
                    self.services.dialogues.take(inv)
                return await self._command(ctx, inv.command)
            pending = self.services.dialogues.take(inv)
            if pending is None:
                return None
            return await self._continue(ctx, pending, inv.text)
        except errors.DomainError as exc:
            return self._domain_error(ctx, inv, exc)
        except actions.BadPayload:
            return self._domain_error(ctx, inv, errors.StaleAction())
        except Exception:
            error_id = secrets.token_hex(4)
            log.exception("error %s while handling %s from %s", error_id,
                          inv.command or inv.action, inv.actor.account_id)
            t = ctx.t if ctx else self._fallback_translator(inv)
            return error_views.unexpected(t, error_id)

    async def reader(self, inv: Invocation):
        """The translator for whoever sent `inv`, for an adapter's own short notices."""
        try:
            caller = await self.services.members.resolve(inv.actor)
        except Exception:
            log.exception("could not resolve %s", inv.actor.account_id)
            return self._fallback_translator(inv)
        return self.translator_for(caller, inv)

    def translator_for(self, caller: Caller, inv: Invocation):
        settings = self.services.settings
        enabled = settings.i18n.locales
        locale = (
            (caller.locale if caller.locale in enabled else None)
            or negotiate(inv.actor.locale_hint, enabled)
            or negotiate(inv.chat.locale, enabled)
            or settings.i18n.default_locale
        )
        return translator(locale, caller.timezone or settings.time.default_timezone)

    def _context(self, inv: Invocation, caller: Caller) -> Ctx:
        ctx = Ctx(self.services, inv, caller, self.translator_for(caller, inv),
                  self.services.clock(), self.registry,
                  lambda name, raw: self._command(ctx, name, raw))
        return ctx

    def _fallback_translator(self, inv: Invocation):
        settings = self.services.settings
        locale = negotiate(inv.actor.locale_hint, settings.i18n.locales)
        return translator(locale or settings.i18n.default_locale, settings.time.default_timezone)

    async def _command(self, ctx: Ctx, name: str, raw: dict[str, str] | None = None) -> Reply:
        spec = self.registry.get(name)
        if spec is None:
            raise errors.NotFound(what="command", name=name[:40])
        if ctx.caller.role < spec.role:
            raise errors.PermissionDenied(role=spec.role.code, command=spec.name)
        if raw is None:
            raw = self._raw(ctx.inv, spec)
        missing = self._first_missing(ctx.inv, spec, raw)
        if missing is not None and spec.dialogue:
            return self._guide(ctx, spec, raw, missing)
        created: list[str] = []
        kwargs = await self._arguments(ctx, spec, raw, created)
        reply = await spec.handler(ctx, **kwargs)
        if created:
            reply = general_views.created_accounts(ctx.t, reply, created)
        if spec.private and not reply.private:
            reply = reply.with_(private=True)
        if (ctx.caller.first_contact and not spec.offers_language
                and ctx.inv.actor.platform in LANGUAGE_NOTE_PLATFORMS):
            note = language_note(self.services.settings.i18n.locales)
            reply = reply.with_(followups=(*reply.followups, note))
        return reply

    @staticmethod
    def _raw(inv: Invocation, spec: CommandSpec) -> dict[str, str]:
        if inv.reply_to is not None and not inv.named and not _starts_with_member(inv.text):
            # `/award 7 thanks` as a reply to someone's message: the reply names the member.
            spec = replace(spec, options=tuple(o for o in spec.options if o.kind != Kind.MEMBER))
        try:
            return dict(inv.named) if inv.named else assign(spec, inv.text)
        except errors.UsageError as exc:
            exc.params.setdefault("command", spec.name)
            raise

    @staticmethod
    def _first_missing(inv: Invocation, spec: CommandSpec, raw: dict[str, str]):
        for opt in spec.options:
            if opt.required and not clean_text(raw.get(opt.name) or ""):
                if opt.kind == Kind.MEMBER and inv.reply_to is not None:
                    continue
                return opt
        return None

    # -- guided dialogues ----------------------------------------------------------------------

    def _guide(self, ctx: Ctx, spec: CommandSpec, raw: dict[str, str], missing: Opt) -> Reply:
        """Ask for `missing` (text platforms answer one question at a time) and offer the Form
        of everything still missing (Discord opens it as a modal). Values already given are
        checked first: a wrong one is a usage error now, not after three more questions."""
        for opt in spec.options:
            value = clean_text(raw.get(opt.name) or "")
            if value:
                self._check(ctx, spec, opt, value)
        self.services.dialogues.start(ctx.inv, spec.name, raw, missing.name)
        return dialogue_views.ask(ctx.t, spec, missing).with_(
            form=dialogue_views.form_for(ctx.t, spec, raw))

    async def _continue(self, ctx: Ctx, pending: Pending, answer: str) -> Reply:
        """An answer to the open dialogue's question, checked by the option's own converter:
        one that does not convert is asked again with the reason, and the dialogue stays."""
        spec = self.registry.get(pending.command)
        opt = spec.option(pending.asking) if spec is not None else None
        if spec is not None and opt is not None and clean_text(answer):
            try:
                self._check(ctx, spec, opt, clean_text(answer))
            except errors.UsageError as exc:
                self.services.dialogues.start(ctx.inv, spec.name, pending.raw, opt.name)
                reason = error_views.text_notice(ctx.t, exc, spec)
                return dialogue_views.reask(ctx.t, spec, opt, reason)
        return await self._command(ctx, pending.command, {**pending.raw, pending.asking: answer})

    @staticmethod
    def _check(ctx: Ctx, spec: CommandSpec, opt: Opt, value: str) -> None:
        """UsageError unless `value` converts (members are looked up later, when it runs)."""
        try:
            convert(opt, value, platform=ctx.inv.actor.platform, tz=ctx.t.tz, now=ctx.now)
        except errors.UsageError as exc:
            exc.params.setdefault("command", spec.name)
            raise

    async def _open_form(self, ctx: Ctx, command: str, fixed: dict[str, str]) -> Reply:
        """A `v1:form:…` button (Discord shows one when a form could not open as a modal):
        the command's form again, never the command run from a payload."""
        spec = self.registry.get(command)
        if spec is None:
            raise errors.StaleAction()
        if ctx.caller.role < spec.role:
            raise errors.PermissionDenied(role=spec.role.code, command=spec.name)
        missing = self._first_missing(ctx.inv, spec, fixed)
        if missing is not None:
            return self._guide(ctx, spec, fixed, missing)
        return Reply(spans=(code(f"/{spec.name}"),),
                     form=dialogue_views.form_for(ctx.t, spec, fixed))

    def _follow_form(self, ctx: Ctx, reply: Reply) -> Reply:
        """A button's reply that carries a Form (Submit → link): for text platforms, also start
        the dialogue of its command and ask the first required field it lacks."""
        form = reply.form
        spec = self.registry.get(form.command) if form is not None else None
        if form is None or spec is None or reply.ask:
            return reply
        missing = self._first_missing(ctx.inv, spec, form.fixed)
        if missing is None:
            return reply
        self.services.dialogues.start(ctx.inv, spec.name, dict(form.fixed), missing.name)
        question = dialogue_views.ask(ctx.t, spec, missing).spans
        spans = (*reply.spans, Span("\n"), *question) if reply.spans else question
        return reply.with_(spans=spans, ask=True)

    async def _arguments(self, ctx: Ctx, spec: CommandSpec, raw: dict[str, str],
                         created: list[str]) -> dict:
        """Typed arguments; console accounts an organiser named for the first time are made
        (and listed in `created`, so the reply can say so)."""
        inv = ctx.inv
        kwargs: dict[str, Any] = {}
        for opt in spec.options:
            # A value of only control characters cleans to nothing: it was not given at all.
            value = clean_text(raw.get(opt.name) or "")
            allowed = ctx.caller.role >= opt.role
            if value and not allowed:
                # An option only some roles may give (an organiser's `/points @member`).
                raise errors.PermissionDenied(role=opt.role.code, command=spec.name)
            if not value:
                if opt.kind == Kind.MEMBER and inv.reply_to is not None and allowed:
                    kwargs[opt.name] = await self.services.members.find(
                        inv.reply_to, vouched=inv.reply_to)
                    continue
                if opt.required:
                    raise errors.UsageError(command=spec.name, option=opt.name,
                                            problem="missing")
                kwargs[opt.name] = None
                continue
            try:
                typed = convert(opt, value, platform=inv.actor.platform, tz=ctx.t.tz,
                                now=ctx.now)
            except errors.UsageError as exc:
                exc.params.setdefault("command", spec.name)
                raise
            if isinstance(typed, Target):
                vouched = inv.vouched(typed)
                typed, new = await self.services.members.locate(
                    typed, vouched=vouched, may_create=ctx.caller.role >= Role.ORGANISER)
                if new and vouched is None:  # the platform knew them: nothing to point out
                    created.append(value)
            kwargs[opt.name] = typed
        return kwargs

    async def _press(self, ctx: Ctx, payload: str) -> Reply:
        action = actions.decode(payload)
        if action.prefix == FORM_PREFIX:
            return await self._open_form(ctx, *Form.target(payload))
        spec = self.registry.actions.get(action.prefix)
        if spec is None:
            raise errors.StaleAction()
        if ctx.caller.role < spec.role:
            raise errors.PermissionDenied(role=spec.role.code, command=None)
        return self._follow_form(ctx, await spec.handler(ctx, action))

    def _domain_error(self, ctx: Ctx | None, inv: Invocation, exc: errors.DomainError) -> Reply:
        log.log(exc.log_level, "%s for %s: %s", type(exc).__name__, inv.actor.account_id,
                exc.params)
        t = ctx.t if ctx else self._fallback_translator(inv)
        spec = self.registry.get(exc.params.get("command") or "") if exc.show_usage else None
        return error_views.render(t, exc, spec, pressed=inv.action is not None,
                                  role=ctx.caller.role if ctx else None)


_MEMBER_WORD = re.compile(r"^\s*(@|<@|telegram:|discord:|console:|member=)")


def _starts_with_member(text: str) -> bool:
    return bool(_MEMBER_WORD.match(text))
