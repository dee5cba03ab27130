"""`python -m app` is the same entry point as the `zondarr` script."""

import sys

from app.cli import main

sys.exit(main())
