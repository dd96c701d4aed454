"""The owners' messages as text: progress lines, metrics, model lists, audit rows."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.texts import text

if TYPE_CHECKING:
    import storage
    from bot.admin_outcomes import ModelRow
    from bot.training import Progress

# Callback data of the admin buttons ("adm:<action>:<run id>", well under 64 bytes).
ACTIVATE, DISCARD, RESUME = "adm:use", "adm:drop", "adm:resume"
STATE_KEYS = {
    "done": "state_done",
    "failed": "state_failed",
    "cancelled": "state_cancelled",
    "interrupted": "state_interrupted",
    "discarded": "state_discarded",
    "queued": "state_queued",
    "running": "state_running",
}
MODELS_SHOWN = 15


def run_keyboard(lang: str, run_id: int, *, resume: bool = False) -> InlineKeyboardMarkup:
    """[Activate] [Discard] under a finished run, or [Resume] [Discard] under a stopped one."""
    key, action = ("button_resume", RESUME) if resume else ("button_activate", ACTIVATE)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(text(lang, key), callback_data=f"{action}:{run_id}"),
                InlineKeyboardButton(
                    text(lang, "button_discard"), callback_data=f"{DISCARD}:{run_id}"
                ),
            ]
        ]
    )


def duration(seconds: float | None) -> str:
    """12 s, 3 min 20 s, 2 h 05 min (language-neutral units)."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def number(value: float | None, digits: int = 1) -> str:
    """A figure for people, or "?" when it is not known."""
    return "?" if value is None else f"{value:.{digits}f}"


def source_of(run: storage.TrainingRun) -> str:
    """What the run trains on, as people see it (never an absolute path)."""
    return str(run.config.get("label", "?"))


def progress_text(lang: str, run: storage.TrainingRun, p: Progress) -> str:
    """The progress message for where the run is."""
    source = source_of(run)
    match p.phase:
        case "preparing":
            return text(lang, "train_preparing", run=run.id, source=source, epochs=p.epochs)
        case "training":
            return text(
                lang,
                "train_progress",
                run=run.id,
                source=source,
                epoch=p.epoch,
                epochs=p.epochs,
                step=p.step,
                steps=p.steps,
                loss=number(p.loss),
                speed=number(p.images_per_s, 0),
                eta=duration(p.eta_s),
            )
        case "tuning":
            return text(
                lang,
                "train_tuning",
                run=run.id,
                source=source,
                trial=p.trial,
                trials=p.trials,
                loss=number(p.loss),
                best=number(p.best_loss),
            )
        case "measuring":
            return text(lang, "train_measuring", run=run.id, source=source, epochs=p.epochs)


def metrics_text(lang: str, metrics: dict[str, Any]) -> str:
    """The figures of a model version on one line (the bench's when it ran)."""
    parts = []
    psnr = metrics.get("psnr_db", metrics.get("psnr"))
    if isinstance(psnr, int | float):
        parts.append(f"PSNR {psnr:.2f} dB")
    if isinstance(metrics.get("ssim"), int | float):
        parts.append(f"SSIM {metrics['ssim']:.3f}")
    if isinstance(metrics.get("kl"), int | float):
        parts.append(f"KL {metrics['kl']:.1f}")
    if isinstance(metrics.get("active_dims"), int | float):
        parts.append(f"{int(metrics['active_dims'])} active dims")
    same = metrics.get("full_same_person", metrics.get("same_person"))
    if isinstance(same, int | float):
        parts.append(f"same person {same:.0%}")
    rank = metrics.get("full_rank1_of_100")
    if isinstance(rank, int | float):
        parts.append(f"rank-1 of 100 {rank:.0%}")
    if isinstance(metrics.get("decode_p50_ms"), int | float):
        parts.append(f"decode 4 faces {metrics['decode_p50_ms']:.0f} ms")
    return ", ".join(parts) if parts else text(lang, "metrics_none")


def who(user_id: int | None) -> str:
    """An admin as the audit log names them."""
    return f"id {user_id}" if user_id is not None else "?"


def model_rows_text(lang: str, rows: list[ModelRow]) -> str:
    """/models: the newest versions, the active one marked."""
    lines = [text(lang, "models_title")]
    for row in rows[:MODELS_SHOWN]:
        v = row.version
        if v.run_id is None:
            origin = text(lang, "models_origin_configured")
        else:
            origin = text(
                lang,
                "models_origin_run",
                run=v.run_id,
                epoch=v.epoch if v.epoch is not None else "?",
                source=v.source or "?",
                who=who(v.trained_by),
            )
        lines.append(
            text(
                lang,
                "models_row",
                mark="▶" if v.active else "•",
                version=v.version,
                origin=origin,
                metrics=metrics_text(lang, v.metrics),
                searches=row.open_searches,
                notes=(
                    ("" if row.file_present else text(lang, "models_missing"))
                    + (text(lang, "models_loaded") if row.loaded else "")
                ),
            )
        )
    if len(rows) > MODELS_SHOWN:
        lines.append(text(lang, "models_more", count=len(rows) - MODELS_SHOWN))
    lines.append(text(lang, "models_footer"))
    return "\n".join(lines)


def audit_text(lang: str, entries: list[storage.AuditEntry]) -> str:
    """/audit: one line per entry, in UTC."""
    lines = [text(lang, "audit_title")]
    for e in entries:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(e.created_at))
        outcome = str(e.details.get("outcome", ""))
        extra = e.details.get("run") or e.details.get("version")
        if extra is not None:
            outcome += f" ({'#' if e.details.get('run') else ''}{extra})"
        lines.append(
            text(
                lang,
                "audit_row",
                when=when,
                who=who(e.admin_user_id),
                action=e.action,
                outcome=outcome,
            )
        )
    return "\n".join(lines)
