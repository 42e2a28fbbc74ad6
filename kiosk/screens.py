"""One drawing function per kiosk screen.

Each takes the app's read-only view (:class:`kiosk.app.KioskApp`), a Painter and
a Layout, draws the whole screen and returns the touch targets on it. Screens
never change state; the app does, when a target is tapped.
"""
from __future__ import annotations

import pygame

from broker.vocab import PRIORITIES, priority_label

from . import i18n
from .layout import (BG, DANGER, HEADER, INK, MUTED, PRIMARY_TEXT, SECONDARY, SELECTED,
                     Button, Layout, Painter)


def _header(app, p: Painter, lay: Layout, title: str, toggle: bool = True) -> list[Button]:
    pygame.draw.rect(p.s, HEADER, lay.header())
    buttons = []
    text_w = lay.w - 2 * lay.margin
    if toggle:
        tw = max(lay.min_target * 2, lay.w // 5)
        b = Button(pygame.Rect(lay.w - lay.margin - tw, (lay.header_h - lay.min_target) // 2,
                               tw, lay.min_target), "lang")
        p.button(b, i18n.t("lang_toggle", app.lang), lay.unit, fill=SECONDARY, color=INK)
        buttons.append(b)
        text_w -= tw + lay.gap
    p.text(title, pygame.Rect(lay.margin, 0, text_w, lay.header_h), int(lay.unit * 1.5),
           PRIMARY_TEXT, bold=True, align="left")
    return buttons


def _two(p: Painter, rect: pygame.Rect, key: str, size: int, color=INK, **kw) -> None:
    """A message in both languages: Indonesian large, English below it."""
    top = pygame.Rect(rect.x, rect.y, rect.w, rect.h * 55 // 100)
    p.text(i18n.t(key, "id", **kw), top, size, color, bold=True, valign="bottom")
    bottom = pygame.Rect(rect.x, top.bottom + size // 3, rect.w, rect.h - top.h - size // 3)
    p.text(i18n.t(key, "en", **kw), bottom, int(size * 0.75), MUTED, valign="top")


def draw_loading(app, p: Painter, lay: Layout) -> list[Button]:
    p.s.fill(BG)
    _header(app, p, lay, "LALOPA", toggle=False)
    _two(p, lay.body(footer=False), "loading", lay.unit * 2)
    return []


def draw_home(app, p: Painter, lay: Layout) -> list[Button]:
    p.s.fill(BG)
    lang = app.lang
    buttons = _header(app, p, lay, i18n.t("title", lang))
    body = lay.body(footer=False)
    # the priority row: tap to choose, tap again to clear
    row = pygame.Rect(body.x, body.y, body.w, lay.min_target)
    label_w = body.w // (4 if lay.portrait else 6)
    p.text(i18n.t("priority", lang), pygame.Rect(row.x, row.y, label_w, row.h), lay.unit,
           INK, bold=True, align="left")
    chip_w = (row.w - label_w - 3 * lay.gap) // 3
    for i, prio in enumerate(PRIORITIES):
        b = Button(pygame.Rect(row.x + label_w + lay.gap + i * (chip_w + lay.gap), row.y,
                               chip_w, row.h), "priority", prio)
        chosen = app.priority == prio
        p.button(b, ("\u2713 " if chosen else "") + priority_label(prio, lang), lay.unit,
                 fill=SELECTED if chosen else SECONDARY, color=INK)
        buttons.append(b)
    hint = pygame.Rect(body.x, row.bottom + lay.gap, body.w, lay.unit * 2)
    p.text(i18n.t("choose_service", lang), hint, int(lay.unit * 1.2), MUTED)
    area = pygame.Rect(body.x, hint.bottom + lay.gap, body.w, body.bottom - hint.bottom - lay.gap)
    if app.site and app.site.whatsapp:
        foot = pygame.Rect(body.x, body.bottom - lay.unit * 2, body.w, lay.unit * 2)
        p.text(i18n.t("contact", lang, wa=app.site.whatsapp), foot, lay.unit, MUTED)
        area.h -= foot.h + lay.gap
    services = app.site.services if app.site else ()
    for svc, cell in zip(services, lay.grid(area, len(services))):
        full = app.cap_reached(svc.prefix)
        b = Button(cell, "service", svc.prefix, enabled=not full)
        p.button(b, f"{svc.prefix}  {svc.name(lang)}", int(lay.unit * 1.6),
                 sub=_service_sub(app, svc.prefix, lang, full))
        buttons.append(b)
    return buttons


def _service_sub(app, prefix: str, lang: str, full: bool) -> str:
    if full:
        return i18n.t("cap_reached", lang)
    waiting, est = app.waiting(prefix)
    mins = i18n.minutes(est)
    wait = i18n.t("est_none", lang) if not waiting else (
        i18n.t("est_wait", lang, m=mins) if mins is not None else "")
    return f"{i18n.t('waiting', lang, n=waiting)}  \u00b7  {wait}".strip(" \u00b7")


def _list(p: Painter, lay: Layout, rect: pygame.Rect, title: str, items, numbered: bool) -> None:
    p.text(title, pygame.Rect(rect.x, rect.y, rect.w, lay.unit * 2), int(lay.unit * 1.2),
           INK, bold=True, align="left")
    text = "\n".join((f"{i}. " if numbered else "\u2610 ") + item
                     for i, item in enumerate(items, 1)) or "-"
    p.text(text, pygame.Rect(rect.x, rect.y + lay.unit * 2 + lay.gap, rect.w,
                             rect.h - lay.unit * 2 - lay.gap), lay.unit, INK,
           align="left", valign="top")


def draw_info(app, p: Painter, lay: Layout) -> list[Button]:
    p.s.fill(BG)
    svc, lang = app.current_service(), app.lang
    buttons = _header(app, p, lay, f"{svc.prefix}  {svc.name(lang)}")
    body = lay.body()
    if lay.portrait:
        half = body.h // 2
        left = pygame.Rect(body.x, body.y, body.w, half - lay.gap)
        right = pygame.Rect(body.x, body.y + half, body.w, body.h - half)
    else:
        half = body.w // 2
        left = pygame.Rect(body.x, body.y, half - lay.gap, body.h)
        right = pygame.Rect(body.x + half + lay.gap, body.y, body.w - half - lay.gap, body.h)
    _list(p, lay, left, i18n.t("requirements", lang), svc.requirements(lang), numbered=False)
    _list(p, lay, right, i18n.t("flow", lang), svc.flow(lang), numbered=True)
    back_r, take_r = lay.footer_buttons(2)
    back, take = Button(back_r, "back"), Button(take_r, "take", svc.prefix)
    p.button(back, i18n.t("back", lang), int(lay.unit * 1.3), fill=SECONDARY, color=INK)
    label = i18n.t("take", lang)
    if app.priority:
        label += f" ({priority_label(app.priority, lang)})"
    p.button(take, label, int(lay.unit * 1.3))
    return buttons + [back, take]


def draw_issuing(app, p: Painter, lay: Layout) -> list[Button]:
    p.s.fill(BG)
    _header(app, p, lay, i18n.t("title", app.lang), toggle=False)
    _two(p, lay.body(footer=False), "issuing", lay.unit * 2)
    return []   # nothing to tap: the lock against double tickets


def draw_confirm(app, p: Painter, lay: Layout) -> list[Button]:
    p.s.fill(BG)
    lang, tk = app.lang, app.ticket["ticket"]
    buttons = _header(app, p, lay, i18n.t("your_number", lang))
    body = lay.body()
    number_r = pygame.Rect(body.x, body.y, body.w, body.h * 45 // 100)
    p.text(tk["number"], number_r, int(lay.h * 0.3), INK, bold=True)
    svc = app.site.service(tk["service"]) if app.site else None
    info = [svc.name(lang) if svc else tk["service"],
            i18n.t("people_ahead", lang, n=tk.get("people_ahead", 0))]
    mins = i18n.minutes(tk.get("est_wait_s"))
    if mins:
        info[-1] += "  \u00b7  " + i18n.t("est_wait", lang, m=mins)
    mid = pygame.Rect(body.x, number_r.bottom, body.w, body.h * 25 // 100)
    p.text("\n".join(info), mid, int(lay.unit * 1.3), INK)
    status_r = pygame.Rect(body.x, mid.bottom, body.w, body.bottom - mid.bottom)
    failed = app.print_state in ("failed", "paper_out", "unknown")
    key = {"printing": "printing", "printed": "printed", "none": "no_printer",
           "failed": "print_failed", "paper_out": "paper_out",
           "unknown": "print_unknown"}[app.print_state]
    # Indonesian first, English second, whatever the toggle says: the person at the
    # kiosk may not be the one who chose the language
    if failed:
        _two(p, status_r, key, lay.unit, DANGER)
    else:
        _two(p, status_r, key, int(lay.unit * 1.2))
    if failed:
        reprint_r, done_r = lay.footer_buttons(2)
        reprint = Button(reprint_r, "reprint")
        p.button(reprint, i18n.t("reprint", lang), int(lay.unit * 1.3), fill=SELECTED, color=INK)
        buttons.append(reprint)
    else:
        (done_r,) = lay.footer_buttons(1)
    done = Button(done_r, "done", enabled=app.print_state != "printing")
    p.button(done, i18n.t("done", lang), int(lay.unit * 1.3))
    return buttons + [done]


def draw_error(app, p: Painter, lay: Layout) -> list[Button]:
    p.s.fill(BG)
    _header(app, p, lay, "LALOPA", toggle=False)
    body = lay.body()
    if app.error_text:
        msg_id, msg_en = app.error_text
        top = pygame.Rect(body.x, body.y, body.w, body.h * 55 // 100)
        p.text(msg_id, top, int(lay.unit * 1.6), DANGER, bold=True, valign="bottom")
        p.text(msg_en, pygame.Rect(body.x, top.bottom + lay.gap, body.w, body.h - top.h - lay.gap),
               int(lay.unit * 1.2), MUTED, valign="top")
    back_r, retry_r = lay.footer_buttons(2)
    back, retry = Button(back_r, "back"), Button(retry_r, "retry")
    p.button(back, i18n.t("back", app.lang), int(lay.unit * 1.3), fill=SECONDARY, color=INK)
    p.button(retry, i18n.t("retry", app.lang), int(lay.unit * 1.3))
    return [back, retry]


def draw_closed(app, p: Painter, lay: Layout) -> list[Button]:
    p.s.fill(BG)
    _header(app, p, lay, app.site.facility if app.site else "LALOPA", toggle=False)
    body = lay.body(footer=app.closed_reason == "cap")
    if app.closed_reason == "cap":
        _two(p, body, "cap_reached", int(lay.unit * 1.6))
        (back_r,) = lay.footer_buttons(1)
        back = Button(back_r, "back")
        p.button(back, i18n.t("back", app.lang), int(lay.unit * 1.3), fill=SECONDARY, color=INK)
        return [back]
    top = pygame.Rect(body.x, body.y, body.w, body.h // 2)
    _two(p, top, "closed", lay.unit * 2)
    if app.hours_text():
        rest = pygame.Rect(body.x, top.bottom, body.w, body.h - top.h)
        upper = pygame.Rect(rest.x, rest.y, rest.w, rest.h // 2)
        p.text(i18n.t("closed_hours", "id", hours=app.hours_text("id")), upper,
               int(lay.unit * 1.2), INK, bold=True, valign="bottom")
        p.text(i18n.t("closed_hours", "en", hours=app.hours_text("en")),
               pygame.Rect(rest.x, upper.bottom + lay.gap, rest.w, rest.h - upper.h - lay.gap),
               int(lay.unit * 0.9), MUTED, valign="top")
    return []


SCREENS = {"loading": draw_loading, "home": draw_home, "info": draw_info,
           "issuing": draw_issuing, "confirm": draw_confirm, "error": draw_error,
           "closed": draw_closed}
