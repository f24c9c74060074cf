"""``python -m matcher``: the same command line as the ``matcher`` script."""

from matcher.cli import main

main()
