"""kopf registration; importing this package registers every handler (from the table of kinds)."""

from azbackup.controllers import handlers, login, operator

__all__ = ["handlers", "login", "operator"]
