"""`python -m app` is the same entry point as the `zondarr` script (``app.entry.main``)."""

import sys

from app.entry import main

sys.exit(main())
