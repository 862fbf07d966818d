"""kopf registration, one thin module per kind; importing this package registers every handler."""

from azbackup.controllers import backuppolicy, backupvault, operator, protectedvm

__all__ = ["backuppolicy", "backupvault", "operator", "protectedvm"]
