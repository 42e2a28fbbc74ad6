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


def _header(app, p: Painter, lay: Layout, title: str, toggle: bool = True,
            speak: bool = True) -> list[Button]:
    pygame.draw.rect(p.s, HEADER, lay.header())
    buttons = []
    text_w = lay.w - 2 * lay.margin
    right = lay.w - lay.margin
    if toggle:
        tw = max(lay.min_target * 2, lay.w // 5)
        b = Button(pygame.Rect(right - tw, (lay.header_h - lay.min_target) // 2,
                               tw, lay.min_target), "lang")
        p.button(b, i18n.t("lang_toggle", app.lang), lay.unit, fill=SECONDARY, color=INK)
        buttons.append(b)
        text_w -= tw + lay.gap
        right -= tw + lay.gap
    if speak:
        buttons.append(_speak_button(app, p, lay, right))
        text_w -= buttons[-1].rect.w + lay.gap
    p.text(title, pygame.Rect(lay.margin, 0, text_w, lay.header_h), int(lay.unit * 1.5),
           PRIMARY_TEXT, bold=True, align="left")
    return buttons


def _speak_button(app, p: Painter, lay: Layout, right: int) -> Button:
    """The "Dengarkan / Listen" button: yellow, with a drawn loudspeaker, always in the
    header's same place, so it is found without reading."""
    sw = max(lay.min_target * 2, lay.w // 5)
    rect = pygame.Rect(right - sw, (lay.header_h - lay.min_target) // 2, sw, lay.min_target)
    b = Button(rect, "speak")
    pygame.draw.rect(p.s, SELECTED, rect, border_radius=max(6, rect.h // 8))
    h = rect.h
    cx, cy = rect.x + h * 2 // 5, rect.centery
    u = max(2, h // 10)
    # the loudspeaker: a box and a cone, then two sound waves
    pygame.draw.rect(p.s, INK, (cx - 2 * u, cy - u, 2 * u, 2 * u))
    pygame.draw.polygon(p.s, INK, [(cx, cy - u), (cx + 2 * u, cy - 3 * u), (cx + 2 * u, cy + 3 * u),
                                   (cx, cy + u)])
    for r in (3 * u, 4 * u + u // 2):
        pygame.draw.arc(p.s, INK, (cx + 2 * u - r, cy - r, 2 * r, 2 * r), -0.8, 0.8, max(2, u // 2))
    text_r = pygame.Rect(cx + 5 * u + u // 2, rect.y, rect.right - cx - 6 * u, rect.h)
    p.text(i18n.t("speak", app.lang), text_r, lay.unit, INK, bold=True)
    return b


def _two(p: Painter, rect: pygame.Rect, key: str, size: int, color=INK, **kw) -> None:
    """A message in both languages: Indonesian large, English below it."""
    top = pygame.Rect(rect.x, rect.y, rect.w, rect.h * 55 // 100)
    p.text(i18n.t(key, "id", **kw), top, size, color, bold=True, valign="bottom")
    bottom = pygame.Rect(rect.x, top.bottom + size // 3, rect.w, rect.h - top.h - size // 3)
    p.text(i18n.t(key, "en", **kw), bottom, int(size * 0.75), MUTED, valign="top")


def draw_loading(app, p: Painter, lay: Layout) -> list[Button]:
    p.s.fill(BG)
    _header(app, p, lay, "LALOPA", toggle=False, speak=False)
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
    waiting, _ = app.waiting(prefix)
    if not app.served(prefix):   # never "no queue" when nobody would call the number
        wait = i18n.t("no_counter", lang)
    else:
        wait = _range_text(app.told(prefix), lang) if waiting else i18n.t("est_none", lang)
    return f"{i18n.t('waiting', lang, n=waiting)}  \u00b7  {wait}".strip(" \u00b7")


def _range_text(span, lang: str) -> str:
    return i18n.t("no_counter", lang) if span is None else i18n.t("est_range", lang, a=span[0], b=span[1])


def _notice(app, prefix: str, lang: str) -> tuple[str, tuple] | None:
    """What a resident must know before taking a number of ``prefix`` (text, colour)."""
    lines, color = [], INK
    if not app.served(prefix):
        lines.append(i18n.t("no_counter_long", lang))
        color = DANGER
    else:
        lines.append(_range_text(app.told(prefix, app.priority), lang).capitalize())
    if app.priority:
        lines.append(i18n.t("priority_applies", lang, label=priority_label(app.priority, lang)))
    cut = app.cutoff(prefix)
    if cut in ("warn", "stop"):
        lines.append(i18n.t("cutoff_warn" if cut == "warn" else "cutoff_stop", lang))
        color = DANGER
    return "  \u00b7  ".join(lines), color


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
    text, color = _notice(app, svc.prefix, lang)
    strip = pygame.Rect(body.x, body.bottom - lay.unit * 3, body.w, lay.unit * 3)
    p.text(text, strip, int(lay.unit * 1.1), color, bold=True)
    body.h -= strip.h + lay.gap
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
    back = Button(back_r, "back")
    take = Button(take_r, "take", svc.prefix, enabled=app.cutoff(svc.prefix) != "stop")
    p.button(back, i18n.t("back", lang), int(lay.unit * 1.3), fill=SECONDARY, color=INK)
    label = i18n.t("take", lang)
    if app.priority:
        label += f" ({priority_label(app.priority, lang)})"
    p.button(take, label, int(lay.unit * 1.3))
    return buttons + [back, take]


def draw_issuing(app, p: Painter, lay: Layout) -> list[Button]:
    p.s.fill(BG)
    _header(app, p, lay, i18n.t("title", app.lang), toggle=False, speak=False)
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
    info[-1] += "  \u00b7  " + _range_text(i18n.wait_range(tk.get("est_low_s"), tk.get("est_high_s")), lang)
    if tk.get("priority"):
        info.append(i18n.t("priority_applies", lang, label=priority_label(tk["priority"], lang)))
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
    buttons = _header(app, p, lay, "LALOPA", toggle=False)
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
    return buttons + [back, retry]


def draw_closed(app, p: Painter, lay: Layout) -> list[Button]:
    p.s.fill(BG)
    buttons = _header(app, p, lay, app.site.facility if app.site else "LALOPA", toggle=False)
    body = lay.body(footer=app.closed_reason in ("cap", "cutoff"))
    if app.closed_reason in ("cap", "cutoff"):
        _two(p, body, "cap_reached" if app.closed_reason == "cap" else "cutoff_stop", int(lay.unit * 1.6))
        (back_r,) = lay.footer_buttons(1)
        back = Button(back_r, "back")
        p.button(back, i18n.t("back", app.lang), int(lay.unit * 1.3), fill=SECONDARY, color=INK)
        return buttons + [back]
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
    return buttons


SCREENS = {"loading": draw_loading, "home": draw_home, "info": draw_info,
           "issuing": draw_issuing, "confirm": draw_confirm, "error": draw_error,
           "closed": draw_closed}
