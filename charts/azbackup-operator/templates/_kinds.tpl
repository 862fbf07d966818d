{{/* Generated from the kinds' table (operator/azbackup/kinds/__init__.py) by `make crds`. Do not edit:
     a unit test fails when this file and the code disagree. */}}
{{- define "azbackup.kindRules" -}}
# Every kind: kopf lists and watches them, and patches them (finalizers, its progress annotations,
# the operator's create journal); the operator reads one at a time with get.
# No update: kopf and the operator only ever PATCH.
- apiGroups: ["azbackup.dev"]
  resources: ["backupvaults", "backuppolicies", "protectedvms", "vmbackupselectors", "ondemandbackups", "vmrestores", "restoredrills"]
  verbs: ["get", "list", "watch", "patch"]
# A VMBackupSelector creates and deletes its ProtectedVM children.
- apiGroups: ["azbackup.dev"]
  resources: ["protectedvms"]
  verbs: ["create", "delete"]
# An OnDemandBackup deletes itself ttlSecondsAfterFinished after it finished.
- apiGroups: ["azbackup.dev"]
  resources: ["ondemandbackups"]
  verbs: ["delete"]
# A VMRestore deletes itself ttlSecondsAfterFinished after it finished.
- apiGroups: ["azbackup.dev"]
  resources: ["vmrestores"]
  verbs: ["delete"]
# A RestoreDrill creates one VMRestore per drilled VM and run, and deletes it to clean up.
- apiGroups: ["azbackup.dev"]
  resources: ["vmrestores"]
  verbs: ["create", "delete"]
# Status (conditions, observedGeneration, checks) is written through the status subresource.
- apiGroups: ["azbackup.dev"]
  resources: ["backupvaults/status", "backuppolicies/status", "protectedvms/status", "vmbackupselectors/status", "ondemandbackups/status", "vmrestores/status", "restoredrills/status"]
  verbs: ["patch"]
{{- end }}
{{- define "azbackup.shardRules" -}}
# Dynamic shards: a heartbeat Lease per replica and a Lease per shard, in the release namespace.
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["list", "create", "update", "delete"]
{{- end }}
