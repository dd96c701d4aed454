"""`python -m fotorobot` (and `torchrun ... -m fotorobot train`): the `fotorobot` command."""

from fotorobot.cli import main

raise SystemExit(main())
