"""`python -m monitor.cli`: the same as the `spend-monitor` console script."""

import sys

from monitor.cli.main import main

sys.exit(main())
