"""What follows the source in `/train SOURCE [epochs=10] [latent=32] [size=64] [loss=mse]
[align=no] [tune=20]`: parsed and range-checked, never raising."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

MAX_EPOCHS = 500
MAX_TRIALS = 200
IMAGE_SIZES = (32, 48, 64, 80, 96, 112, 128)  # multiples of 16 the VAE's 4 stages can halve
LOSSES = ("mse", "ssim-l1")

# unknown: a key we do not have; malformed: not key=value; bad_value: out of range / not a
# number; repeated: the same key twice.
OptionProblem = Literal["unknown", "malformed", "bad_value", "repeated"]


@dataclass(frozen=True)
class TrainOptions:
    """A run's options; None means the training command's own default."""

    epochs: int = 10
    latent_dim: int | None = None
    image_size: int | None = None
    recon: str | None = None
    align: bool = True  # photo folders: faces aligned like the real-faces model
    tune: int | None = None  # Bayesian optimisation first, with this many short runs

    def to_dict(self) -> dict[str, Any]:
        """Plain data (stored with the run)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainOptions:
        """Inverse of to_dict; unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class OptionError:
    """Why the options were refused: the offending token and what was wrong with it."""

    problem: OptionProblem
    token: str


def _int(value: str, low: int, high: int) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and low <= int(value) <= high else None


def parse_options(tokens: list[str]) -> TrainOptions | OptionError:
    """`epochs=5 latent=32 size=64 loss=ssim-l1 align=no tune=20` -> TrainOptions."""
    values: dict[str, Any] = {}
    for token in tokens:
        key, sep, raw = token.partition("=")
        key, raw = key.strip().lower(), raw.strip().lower()
        if not sep or not key or not raw:
            return OptionError("malformed", token)
        name = {
            "epochs": "epochs",
            "latent": "latent_dim",
            "size": "image_size",
            "loss": "recon",
            "align": "align",
            "tune": "tune",
        }.get(key)
        if name is None:
            return OptionError("unknown", token)
        if name in values:
            return OptionError("repeated", token)
        value: Any
        if name == "epochs":
            value = _int(raw, 1, MAX_EPOCHS)
        elif name == "latent_dim":
            value = _int(raw, 2, 512)
        elif name == "image_size":
            value = _int(raw, 16, 128)
            value = value if value in IMAGE_SIZES else None
        elif name == "recon":
            value = raw if raw in LOSSES else None
        elif name == "align":
            value = {"yes": True, "no": False, "on": True, "off": False}.get(raw)
        else:
            value = _int(raw, 1, MAX_TRIALS)
        if value is None:
            return OptionError("bad_value", token)
        values[name] = value
    return TrainOptions(**values)
