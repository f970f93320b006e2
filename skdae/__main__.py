"""``python -m skdae``: the ``skdae`` command."""

from skdae.cli import main

if __name__ == "__main__":  # not when imported (pytest's doctest collection does)
    raise SystemExit(main())
