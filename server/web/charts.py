"""Tiny inline SVG bar charts (no JavaScript, no outside library, prints well).

    >>> svg = bar_chart(["08", "09"], [("Arrivals", [5, 9], "s1")])
    >>> svg.startswith("<svg")
    True
"""
from __future__ import annotations

from markupsafe import Markup, escape

W, H = 640, 220
PAD_L, PAD_B, PAD_T = 36, 28, 12


def bar_chart(labels: list[str], series: list[tuple[str, list[float], str]],
              title: str = "") -> Markup:
    """Grouped bars: one group per label, one bar per series (CSS class gives the colour)."""
    peak = max([v for _, values, _ in series for v in values if v is not None] + [1])
    plot_w, plot_h = W - PAD_L - 8, H - PAD_B - PAD_T
    group_w = plot_w / max(1, len(labels))
    bar_w = max(2.0, group_w * 0.8 / max(1, len(series)))
    parts = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}">']
    for frac in (0, 0.5, 1):  # grid lines with their values
        y = PAD_T + plot_h * (1 - frac)
        parts.append(f'<line class="grid" x1="{PAD_L}" x2="{W - 8}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{PAD_L - 4}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{_num(peak * frac)}</text>')
    for i, label in enumerate(labels):
        x0 = PAD_L + i * group_w + group_w * 0.1
        for j, (name, values, css) in enumerate(series):
            v = values[i] or 0
            h = plot_h * v / peak
            parts.append(f'<rect class="{css}" x="{x0 + j * bar_w:.1f}" y="{PAD_T + plot_h - h:.1f}"'
                         f' width="{bar_w - 1:.1f}" height="{h:.1f}"><title>{escape(name)} '
                         f'{escape(label)}: {_num(v)}</title></rect>')
        parts.append(f'<text class="axis" x="{x0 + group_w * 0.4:.1f}" y="{H - 10}"'
                     f' text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"
