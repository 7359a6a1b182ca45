"""The wire contract shared by the server and its clients.

Both sides import from here, and this package imports nothing but the standard
library: the pack SDK, the CLI and the example packs install without the server.
"""

from __future__ import annotations
