"""The fotorobot command line and its settings: the one layer that wires the packages together.

`fotorobot.cli` is the only console entry point (`fotorobot ...`, `python -m fotorobot ...`,
`torchrun ... -m fotorobot train ...`); `fotorobot.settings` is the only place settings are
read. The commands that combine several packages (run, try, the bot and search benchmarks, the
demo, the database commands) live here; single-package commands stay in their package.
"""
