"""`python -m app` runs the Depthdesk command line."""

import sys

from app.cli import main

sys.exit(main())
