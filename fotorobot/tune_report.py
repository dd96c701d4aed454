"""The trials of `fotorobot tune` for people: a Markdown table and a plot (Pillow only, so the
production image, which has no matplotlib, draws it too)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from fotorobot.tune import Trial

_SIZE = (720, 420)
_MARGIN = (70, 30, 20, 50)  # left, top, right, bottom
_COLOURS = {"random": (150, 150, 150), "ei": (30, 100, 220)}


def trials_table(trials: list[Trial], best: Trial) -> str:
    """One row per trial, the best one marked."""
    rows = [
        "| # | from | latent | decoder | beta | lr | held-out loss | PSNR dB | s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for t in trials:
        h = t.hyper
        mark = " **best**" if t.index == best.index else ""
        rows.append(
            f"| {t.index}{mark} | {t.source} | {h.latent_dim} | x{h.dec_width:g} | {h.beta:g} "
            f"| {h.lr:g} | {t.loss:.1f} | {t.psnr:.2f} | {t.seconds:.0f} |"
        )
    return "\n".join(rows) + "\n"


def trials_plot(trials: list[Trial], best: Trial) -> Image.Image:
    """Held-out loss per trial (grey: random, blue: Expected Improvement) and the best so far."""
    image = Image.new("RGB", _SIZE, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    left, top, right, bottom = _MARGIN
    width, height = _SIZE[0] - left - right, _SIZE[1] - top - bottom
    finite = [t.loss for t in trials if math.isfinite(t.loss)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    span = (high - low) or 1.0

    def xy(index: int, loss: float) -> tuple[float, float]:
        x = left + width * (index - 0.5) / max(1, len(trials))
        y = top + height * (1 - (min(loss, high) - low) / span) if math.isfinite(loss) else top
        return x, y

    draw.rectangle((left, top, left + width, top + height), outline=(0, 0, 0))
    for value in (low, (low + high) / 2, high):
        y = xy(1, value)[1]
        draw.line((left - 4, y, left, y), fill=(0, 0, 0))
        draw.text((4, y - 6), f"{value:.1f}", fill=(0, 0, 0), font=font)
    running = math.inf
    previous: tuple[float, float] | None = None
    for t in trials:
        running = min(running, t.loss)
        point = xy(t.index, running)
        if previous is not None and math.isfinite(running):
            draw.line((*previous, *point), fill=(220, 60, 30), width=2)
        previous = point if math.isfinite(running) else None
        x, y = xy(t.index, t.loss)
        r = 6 if t.index == best.index else 4
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_COLOURS[t.source])
    draw.text(
        (left, _SIZE[1] - bottom + 10),
        f"trial 1..{len(trials)}   grey: random   blue: Expected Improvement   red: best so far",
        fill=(0, 0, 0),
        font=font,
    )
    draw.text(
        (left, 8),
        f"held-out loss (recon + KL, lower is better); best: trial {best.index}",
        fill=(0, 0, 0),
        font=font,
    )
    return image
