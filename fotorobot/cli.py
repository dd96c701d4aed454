"""The `fotorobot` command line: one subcommand per job, each implemented in its own module.

The only console entry point. Modules are imported only when their subcommand runs, so
`fotorobot db ...` never pays for torch and `fotorobot train` never imports Telegram (DDP
training is `torchrun --nproc_per_node=N -m fotorobot train ...`). Every module named here
exposes `add_arguments(parser)` and `run(args) -> int`; commands that need settings read them
with `fotorobot.settings.load_settings`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# (command path, module, help) — the module owns its flags and its behaviour.
COMMANDS: list[tuple[tuple[str, ...], str, str]] = [
    (("run",), "fotorobot.run", "run the Telegram bot (polling, or webhook with --webhook-url)"),
    (
        ("try",),
        "fotorobot.tryout",
        "try the bot locally: fake Bot API + chat page, no token needed",
    ),
    (("train",), "model.cli_train", "train the face VAE on synthetic faces or a photo folder"),
    (
        ("tune",),
        "fotorobot.tune",
        "Bayesian optimisation of training hyperparameters, then the best one trained in full",
    ),
    (("sample",), "model.cli_sample", "write a grid of prior samples and reconstructions"),
    (
        ("search-assets",),
        "model.search_assets",
        "a photo model's identity axes and opening faces, written beside it for the bot",
    ),
    (("bench", "model"), "model.bench", "face model figures: faces/s, images/s, decode latency"),
    (
        ("bench", "search"),
        "fotorobot.bench_search",
        "search quality and latency with simulated raters",
    ),
    (("bench", "bot"), "fotorobot.bench_bot", "drive simulated users through the fake Bot API"),
    (("bench", "storage"), "storage.bench", "storage figures: votes/s, history load, size"),
    (
        ("bench", "chaos"),
        "fotorobot.bench_chaos",
        "SIGKILL the bot at random while people rate: votes lost, doubled, chats waiting",
    ),
    (("db", "backup"), "fotorobot.db", "online backup of the database to PATH"),
    (("db", "export"), "fotorobot.db", "export one chat's data as JSON"),
]


def _module_parser(module_name: str, command: tuple[str, ...]) -> argparse.ArgumentParser:
    """The full parser of one subcommand, built from its module."""
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog="fotorobot " + " ".join(command))
    if _takes_command(module):
        module.add_arguments(parser, command)
    else:
        module.add_arguments(parser)
    return parser


def _takes_command(module: object) -> bool:
    """Modules serving several commands (fotorobot.db) receive the command path too."""
    return bool(getattr(module, "MULTI_COMMAND", False))


def _usage() -> str:
    lines = ["usage: fotorobot COMMAND [options]", "", "commands:"]
    for path, _module, text in COMMANDS:
        lines.append(f"  {' '.join(path):<16} {text}")
    lines.append("")
    lines.append("Run `fotorobot COMMAND --help` for the options of one command.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    for path, module_name, _text in COMMANDS:
        if tuple(args[: len(path)]) == path:
            module = importlib.import_module(module_name)
            parser = _module_parser(module_name, path)
            ns = parser.parse_args(args[len(path) :])
            if _takes_command(module):
                return int(module.run(ns, path) or 0)
            return int(module.run(ns) or 0)
    print(f"fotorobot: unknown command {' '.join(args[:2])!r}\n", file=sys.stderr)
    print(_usage(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
