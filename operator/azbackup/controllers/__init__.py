"""kopf registration, one thin module per kind; importing this package registers every handler."""

from azbackup.controllers import (
    backuppolicy,
    backupvault,
    login,
    ondemandbackup,
    operator,
    protectedvm,
    vmbackupselector,
)

__all__ = ["backuppolicy", "backupvault", "login", "ondemandbackup", "operator", "protectedvm", "vmbackupselector"]
