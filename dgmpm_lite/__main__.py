"""``python -m dgmpm_lite``: the same command line as ``dgmpm-lite`` (:mod:`dgmpm_lite.cli`)."""

import sys

from .cli import main

sys.exit(main())
