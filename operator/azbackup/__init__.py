"""Kubernetes operator for Azure VM Backup (Recovery Services vaults, policies, protected VMs)."""

API_GROUP = "azbackup.dev"
API_VERSION = "v1alpha1"
