"""Figures of the search benchmark: best-so-far curves, same-person shares, paired bootstrap
intervals of differences, effort (faces shown vs answers given), markdown tables and PNGs.

Pure numpy (matplotlib only inside the plot functions).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from optimization.benchmark import BenchConfig, Traces
from optimization.raters import SAME_PERSON_DISTANCE


def best_distance(t: Traces) -> np.ndarray:
    """(targets, faces) the smallest dlib distance among the faces shown so far."""
    return np.minimum.accumulate(t.distance, axis=1)


def best_similarity(t: Traces) -> np.ndarray:
    """(targets, faces) the rater's highest noise-free similarity shown so far."""
    return np.maximum.accumulate(t.similarity, axis=1)


def best_by_answers(t: Traces, max_answers: int) -> np.ndarray:
    """(targets, max_answers) the smallest distance among faces whose album was answered
    within a answers, a = 1..max_answers (inf before the first album was answered)."""
    out = np.full((len(t.distance), max_answers), np.inf)
    for a in range(1, max_answers + 1):
        seen = t.answers <= a
        out[:, a - 1] = np.where(seen, t.distance, np.inf).min(axis=1)
    return out


def paired_bootstrap(
    a: np.ndarray, b: np.ndarray, n_boot: int = 10_000, level: float = 0.9, seed: int = 0
) -> dict[str, float]:
    """Mean of a - b over paired units (targets) and its percentile bootstrap interval.

    Targets are resampled with replacement, the same resample for both (pairing: a target
    that is hard for one strategy is usually hard for the other, which narrows the interval).
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if d.ndim != 1 or len(d) == 0:
        raise ValueError("paired_bootstrap needs two equal-length 1-d arrays")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(d), size=(n_boot, len(d)))
    means = d[idx].mean(axis=1)
    tail = (1.0 - level) / 2.0
    return {
        "diff": float(d.mean()),
        "lo": float(np.quantile(means, tail)),
        "hi": float(np.quantile(means, 1.0 - tail)),
    }


def identity_rows(
    traces: Mapping[str, Traces], checkpoints: tuple[int, ...]
) -> list[dict[str, object]]:
    """Per strategy: mean best distance and same-person share at each checkpoint (faces)."""
    rows = []
    for name, t in traces.items():
        bd = best_distance(t)
        row: dict[str, object] = {"strategy": name}
        for b in checkpoints:
            if b <= bd.shape[1]:
                v = bd[:, b - 1]
                row[f"@{b}"] = {
                    "distance": float(v.mean()),
                    "same_person": float((v < SAME_PERSON_DISTANCE).mean()),
                    "similarity": float(best_similarity(t)[:, b - 1].mean()),
                }
        rows.append(row)
    return rows


def comparisons(
    traces: Mapping[str, Traces],
    ours: str,
    others: tuple[str, ...],
    checkpoints: tuple[int, ...],
    seed: int = 0,
) -> list[dict[str, object]]:
    """ours - other at each checkpoint, paired bootstrap 90 % intervals: best distance
    (negative: ours closer), same-person share and rater similarity (positive: ours better)."""
    out = []
    a = traces[ours]
    for other in others:
        if other not in traces or other == ours:
            continue
        b = traces[other]
        for cp in checkpoints:
            if cp > min(a.distance.shape[1], b.distance.shape[1]):
                continue
            da, db = best_distance(a)[:, cp - 1], best_distance(b)[:, cp - 1]
            sa, sb = best_similarity(a)[:, cp - 1], best_similarity(b)[:, cp - 1]
            out.append(
                {
                    "ours": ours,
                    "other": other,
                    "at": cp,
                    "distance": paired_bootstrap(da, db, seed=seed),
                    "same_person": paired_bootstrap(
                        da < SAME_PERSON_DISTANCE, db < SAME_PERSON_DISTANCE, seed=seed
                    ),
                    "similarity": paired_bootstrap(sa, sb, seed=seed),
                }
            )
    return out


def _markdown(head: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])


def format_identity_table(rows: list[dict[str, object]], checkpoints: tuple[int, ...]) -> str:
    """Markdown: best distance (same-person share) per strategy and checkpoint."""
    table = []
    for r in rows:
        cells = [str(r["strategy"])]
        for b in checkpoints:
            s = r.get(f"@{b}")
            cells.append(
                f"{s['distance']:.3f} ({s['same_person']:.0%})" if s else "-"  # type: ignore[index]
            )
        table.append(cells)
    return _markdown(["strategy", *[f"after {b}" for b in checkpoints]], table)


def _ci(c: dict[str, float], pct: bool = False) -> str:
    if pct:
        return f"{c['diff']:+.0%} [{c['lo']:+.0%}, {c['hi']:+.0%}]"
    return f"{c['diff']:+.3f} [{c['lo']:+.3f}, {c['hi']:+.3f}]"


def format_comparisons(comps: list[dict[str, object]]) -> str:
    """Markdown: one row per (other, checkpoint), intervals that exclude zero marked *."""
    table = []
    for c in comps:
        cells = [str(c["other"]), str(c["at"])]
        for key, pct in (("distance", False), ("same_person", True), ("similarity", False)):
            ci = c[key]
            star = " *" if ci["lo"] > 0 or ci["hi"] < 0 else ""  # type: ignore[index]
            cells.append(_ci(ci, pct) + star)  # type: ignore[arg-type]
        table.append(cells)
    head = ["ours -", "after", "best distance", "same person", "rater similarity"]
    return _markdown(head, table)


def effort_rows(traces: Mapping[str, Traces], answers: tuple[int, ...]) -> list[dict[str, object]]:
    """Per strategy: best distance and same-person share after a given number of answers."""
    rows = []
    top = max(answers)
    for name, t in traces.items():
        reach = min(top, int(t.answers[:, -1].min()))  # answers every target got
        ba = best_by_answers(t, top)
        row: dict[str, object] = {"strategy": name}
        for a in answers:
            if a <= reach:
                v = ba[:, a - 1]
                row[f"@{a}"] = {
                    "distance": float(v.mean()),
                    "same_person": float((v < SAME_PERSON_DISTANCE).mean()),
                }
        rows.append(row)
    return rows


def plot_identity(
    traces: Mapping[str, Traces], path: str, title: str = "", by: str = "faces"
) -> None:
    """Mean best-so-far distance (top) and same-person share (bottom) against faces shown
    (by="faces") or answers given (by="answers"), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7.5, 7.0), dpi=120, sharex=True)
    for name, t in traces.items():
        if by == "answers":
            top = int(t.answers[:, -1].min())
            bd = best_by_answers(t, top)
        else:
            bd = best_distance(t)
        x = np.arange(1, bd.shape[1] + 1)
        bold = name.split("+")[0] in ("ours", "pref", "ours-picks")
        (line,) = ax1.plot(x, bd.mean(0), label=name, lw=2 if bold else 1.2)
        share = (bd < SAME_PERSON_DISTANCE).mean(0)
        ax2.plot(x, share, color=line.get_color(), lw=2 if bold else 1.2)
    ax1.axhline(SAME_PERSON_DISTANCE, color="grey", ls=":", lw=1)
    ax1.set_ylabel("distance of the closest face so far")
    ax2.set_ylabel("same person (< 0.6) share")
    ax2.set_xlabel("faces shown" if by == "faces" else "answers given")
    for ax in (ax1, ax2):
        _budget_axis(ax)
    ax1.legend(loc="upper right", fontsize=8)
    if title:
        ax1.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def ratings_to_reach(curve: np.ndarray, level: float) -> np.ndarray:
    """Per target, the number of ratings until best-so-far >= level (inf if never)."""
    hit = curve >= level
    first = np.argmax(hit, axis=1).astype(np.float64) + 1.0
    first[~hit.any(axis=1)] = np.inf
    return first


def summarise(
    curves: dict[str, np.ndarray], checkpoints: tuple[int, ...], level: float
) -> list[dict[str, object]]:
    """One row per strategy: mean and 90% interval at each checkpoint, ratings to reach level."""
    rows = []
    for name, c in curves.items():
        row: dict[str, object] = {"strategy": name}
        for b in checkpoints:
            if b <= c.shape[1]:
                v = c[:, b - 1]
                row[f"@{b}"] = {
                    "mean": float(v.mean()),
                    "p5": float(np.quantile(v, 0.05)),
                    "p95": float(np.quantile(v, 0.95)),
                }
        need = ratings_to_reach(c, level)
        reached = np.isfinite(need)
        row["reach"] = {
            "level": level,
            "median": float(np.median(need)) if np.isfinite(np.median(need)) else None,
            "reached": float(reached.mean()),
        }
        rows.append(row)
    return rows


def format_table(rows: list[dict[str, object]], checkpoints: tuple[int, ...]) -> str:
    """Markdown table of summarise() rows."""
    level = rows[0]["reach"]["level"] if rows else 0.0  # type: ignore[index]
    head = ["strategy", *[f"after {b}" for b in checkpoints], f"ratings to {level:.3f}"]
    table = []
    for r in rows:
        cells = [str(r["strategy"])]
        for b in checkpoints:
            s = r.get(f"@{b}")
            cells.append(
                f"{s['mean']:.3f} [{s['p5']:.3f}, {s['p95']:.3f}]" if s else "-"  # type: ignore[index]
            )
        reach = r["reach"]
        med = reach["median"]  # type: ignore[index]
        frac = reach["reached"]  # type: ignore[index]
        cells.append(
            f"{med:.0f} ({frac:.0%} reach)" if med is not None else f"- ({frac:.0%} reach)"
        )
        table.append(cells)
    return _markdown(head, table)


def plot_curves(curves: dict[str, np.ndarray], path: str, title: str = "") -> None:
    """Mean best-so-far similarity vs ratings, with the 90% band, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.6), dpi=120)
    for name, c in curves.items():
        x = np.arange(1, c.shape[1] + 1)
        mean = c.mean(0)
        (line,) = ax.plot(x, mean, label=f"{name}", lw=2 if name == "ours" else 1.3)
        if name in ("ours", "random"):  # two bands stay readable; the JSON has all of them
            lo, hi = np.quantile(c, 0.05, 0), np.quantile(c, 0.95, 0)
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.1)
    ax.set_xlabel("ratings")
    ax.set_ylabel("similarity of the best face so far")
    _budget_axis(ax)
    ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _budget_axis(ax: Any) -> None:
    """A log x axis ticked at the budgets the tables report, with a light grid."""
    ax.set_xscale("log")
    ax.set_xticks([1, 4, 8, 20, 40, 80])
    ax.set_xticklabels(["1", "4", "8", "20", "40", "80"])
    ax.grid(alpha=0.3)


COMPARE_AT = (20, 40, 80)


def detected_rows(traces: Mapping[str, Traces], cps: tuple[int, ...]) -> list[dict[str, object]]:
    """Share of the faces shown so far in which the face detector found a face, per strategy
    (pooled over targets), at each checkpoint; [] when detection was not asked for."""
    rows: list[dict[str, object]] = []
    for name, t in traces.items():
        if t.detected is None:
            return []
        row: dict[str, object] = {"strategy": name}
        for c in cps:
            row[f"@{c}"] = float(t.detected[:, :c].mean())
        rows.append(row)
    return rows


def build_report(
    traces: Mapping[str, Traces], cfg: BenchConfig, ours: str, others: tuple[str, ...] = ()
) -> dict[str, object]:
    """Every figure of one rater's run as plain data (JSON-able): the per-strategy table, the
    paired comparisons of `ours` with the others (default: random and CMA-ES, whatever of
    them ran), effort by answers, and the per-target best-so-far curves."""
    if ours not in traces:
        raise ValueError(f"{ours!r} did not run")
    cps = tuple(c for c in cfg.checkpoints if c <= cfg.budget)
    compare_at = tuple(c for c in COMPARE_AT if c <= cfg.budget) or cps
    if not others:
        others = tuple(s for s in traces if s.split("+")[0] in ("random", "cma"))
    answers = tuple(a for a in (4, 8, 20, 40, 80) if a <= max(cfg.budget, cfg.answers))
    identity = all(np.all(np.isfinite(t.distance)) for t in traces.values())
    rep: dict[str, object] = {
        "rater": cfg.rater.kind,
        "budget": cfg.budget,
        "checkpoints": list(cps),
        "identity": identity,
        "table": identity_rows(traces, cps) if identity else [],
        "similarity": summarise(
            {k: best_similarity(t)[:, : cfg.budget] for k, t in traces.items()},
            cps,
            float(best_similarity(traces["random"])[:, cfg.budget - 1].mean())
            if "random" in traces
            else 0.8,
        ),
        "comparisons": comparisons(traces, ours, others, compare_at, cfg.seed) if identity else [],
        "effort": effort_rows(traces, answers) if identity else [],
        "detected": detected_rows(traces, cps),
        "curves": {
            k: {
                "best_distance": np.round(best_distance(t), 4).tolist() if identity else None,
                "best_similarity": np.round(best_similarity(t), 4).tolist(),
                "answers": t.answers.tolist(),
            }
            for k, t in traces.items()
        },
    }
    return rep


def format_report(rep: Mapping[str, Any]) -> str:
    """The tables of one rater's report as markdown."""
    cps = tuple(rep["checkpoints"])
    parts = []
    if rep["identity"]:
        parts.append(
            "closest face so far: mean dlib distance (share of targets where it is the same "
            "person, < 0.6)\n\n" + format_identity_table(rep["table"], cps)
        )
        parts.append(
            "paired differences, mean [90 % bootstrap interval] over targets (* excludes 0)\n\n"
            + format_comparisons(rep["comparisons"])
        )
        eff = rep["effort"]
        answers = sorted({int(k[1:]) for r in eff for k in r if k.startswith("@")})
        parts.append(
            "by answers given (a rating = 1 answer a face, a pick = 1 answer an album)\n\n"
            + format_identity_table(eff, tuple(answers))
        )
    parts.append(
        "rater's similarity of the best face so far, mean [5 %, 95 %]\n\n"
        + format_table(rep["similarity"], cps)
    )
    if rep.get("detected"):
        table = [[str(r["strategy"]), *[f"{r[f'@{c}']:.0%}" for c in cps]] for r in rep["detected"]]
        parts.append(
            "faces shown in which the face detector finds a face\n\n"
            + _markdown(["strategy", *[f"first {c}" for c in cps]], table)
        )
    return "\n\n".join(parts)
