"""`python -m bot` is the same as the `fotorobot` console script."""

from bot.cli import main

raise SystemExit(main())
