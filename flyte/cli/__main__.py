"""``python -m flyte.cli``: the same as the ``flyte`` command."""

from __future__ import annotations

import sys

from flyte.cli import main

sys.exit(main())
