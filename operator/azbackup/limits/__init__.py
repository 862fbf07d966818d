"""Azure's limits on a vault, decided before the write: 1000 VMs per vault and per policy (capacity), and
50 policy creates/edits per vault in 24 hours (policy_budget).

Pure like the checks: the callers count from the lists they already read and pass the clock in; nothing
here does I/O or imports kopf or Azure SDKs.
"""
