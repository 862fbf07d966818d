{{/* Names: RELEASE-azbackup-operator, shortened to 63 characters (a DNS label). */}}
{{- define "azbackup.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "azbackup.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "azbackup.selectorLabels" -}}
app.kubernetes.io/name: {{ include "azbackup.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "azbackup.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "azbackup.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: azbackup
{{- end }}

{{- define "azbackup.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "azbackup.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "azbackup.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* kopf peering is on when asked for; more than one replica with neither peering nor sharding is
refused, because every replica would then reconcile every object. */}}
{{- define "azbackup.peering" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.peering.enabled) (not .Values.sharding.enabled) }}
{{- fail "replicas > 1 needs peering.enabled=true (active/standby) or sharding.enabled=true (replicas share the work): without either every replica reconciles every object" }}
{{- end }}
{{- if and .Values.peering.enabled .Values.sharding.enabled }}
{{- fail "peering.enabled and sharding.enabled exclude each other: shards are active/active" }}
{{- end }}
{{- if .Values.peering.enabled }}true{{ end }}
{{- end }}

{{/* Dynamic shards: the replicas divide the subscriptions among themselves through Leases. */}}
{{- define "azbackup.sharding" -}}
{{- if .Values.sharding.enabled }}true{{ end }}
{{- end }}

{{- define "azbackup.peeringName" -}}
{{- default (include "azbackup.fullname" .) .Values.peering.name }}
{{- end }}

{{/* More than one replica runs as a StatefulSet: its pods have ordinals to use as peering priorities,
and stable names to use as shard identities (a restarted pod finds its shards still its own). */}}
{{- define "azbackup.statefulSet" -}}
{{- if gt (int .Values.replicas) 1 }}true{{ end }}
{{- end }}

{{- define "azbackup.armEndpoint" -}}
{{- $clouds := dict "AzurePublicCloud" "https://management.azure.com" "AzureUSGovernment" "https://management.usgovcloudapi.net" "AzureChinaCloud" "https://management.chinacloudapi.cn" }}
{{- default (get $clouds .Values.azure.cloud) .Values.azure.armEndpoint }}
{{- end }}

{{- define "azbackup.authorityHost" -}}
{{- $clouds := dict "AzurePublicCloud" "https://login.microsoftonline.com" "AzureUSGovernment" "https://login.microsoftonline.us" "AzureChinaCloud" "https://login.chinacloudapi.cn" }}
{{- default (get $clouds .Values.azure.cloud) .Values.azure.authorityHost }}
{{- end }}

{{/* The arguments of `azbackup run` (the image's entrypoint), one quoted flag=value per item.
Integers go through `int`: Helm reads numbers as floats and would print 1000000 as 1e+06. */}}
{{- define "azbackup.args" -}}
- {{ printf "--log-format=%s" .Values.logFormat | quote }}
- {{ printf "--liveness=http://0.0.0.0:%d/healthz" (int .Values.probes.port) | quote }}
{{- if .Values.metrics.enabled }}
- {{ printf "--metrics-port=%d" (int .Values.metrics.port) | quote }}
{{- end }}
{{- range .Values.watchNamespaces }}
- {{ printf "--namespace=%s" . | quote }}
{{- end }}
{{- with .Values.labelSelector }}
- {{ printf "--label-selector=%s" . | quote }}
{{- end }}
{{- with .Values.clusterName }}
- {{ printf "--cluster-name=%s" . | quote }}
{{- end }}
- {{ printf "--arm-endpoint=%s" (include "azbackup.armEndpoint" .) | quote }}
- {{ printf "--authority-host=%s" (include "azbackup.authorityHost" .) | quote }}
{{- if .Values.azure.caBundleConfigMap }}
- {{ printf "--ca-bundle=/etc/azbackup/ca/%s" .Values.azure.caBundleKey | quote }}
{{- end }}
- {{ printf "--sync-period=%v" .Values.syncPeriod | quote }}
- {{ printf "--change-feed-interval=%v" .Values.changeFeed.interval | quote }}
- {{ printf "--poll-interval=%v" .Values.pollInterval | quote }}
- {{ printf "--concurrency=%d" (int .Values.concurrency) | quote }}
- {{ printf "--worker-limit=%d" (int .Values.workerLimit) | quote }}
- {{ printf "--write-rate=%v" .Values.writeRate | quote }}
- {{ printf "--write-burst=%d" (int .Values.writeBurst) | quote }}
{{- if include "azbackup.peering" . }}
- {{ printf "--peering=%s" (include "azbackup.peeringName" .) | quote }}
{{- if include "azbackup.statefulSet" . }}
{{- /* $(POD_INDEX) is expanded by the kubelet from the env var of the same name. */}}
- "--priority=$(POD_INDEX)"
{{- else }}
- {{ printf "--priority=%d" (int .Values.peering.priority) | quote }}
{{- end }}
{{- end }}
{{- if include "azbackup.sharding" . }}
{{- /* The pod's name ($POD_ID) is its identity; $POD_NAMESPACE holds the Leases. */}}
- "--sharding"
- {{ printf "--shard-group=%s" (include "azbackup.fullname" .) | quote }}
- {{ printf "--shard-lease-duration=%v" .Values.sharding.leaseDuration | quote }}
{{- end }}
{{- if .Values.verbose }}
- "--verbose"
{{- end }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}

{{/* The namespaced rules of the operator: the same in the ClusterRole and in each Role. */}}
{{- define "azbackup.namespacedRules" -}}
{{ include "azbackup.kindRules" . }}
# One Event per condition transition.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- if .Values.rbac.readSecrets }}
# spec.credentialRef names a Secret in the object's namespace; it is read, never listed or watched.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
{{- end }}
{{- end }}
