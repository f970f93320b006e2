"""``python -m skdae``: the ``skdae`` command."""

from skdae.cli import main

raise SystemExit(main())
