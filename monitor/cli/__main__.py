"""`python -m monitor.cli`: the same as the `spend-monitor` console script."""

import sys

from monitor.cli import main

sys.exit(main())
