"""Allow ``python -m bot`` as a synonym for the ``chathost`` console script."""

from bot.cli import main

raise SystemExit(main())
