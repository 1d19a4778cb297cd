{{/* Chart name, overridable. */}}
{{- define "modelops-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: <release>-<chart>, or the release name alone when it already
contains the chart name (so `helm install modelops-operator .` is not doubled).
*/}}
{{- define "modelops-operator.fullname" -}}
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

{{/* Labels on every object of the chart. */}}
{{- define "modelops-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "modelops-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: modelops
app.kubernetes.io/component: operator
{{- end }}

{{/* Labels selecting the operator pods; never change them in an upgrade. */}}
{{- define "modelops-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "modelops-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "modelops-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "modelops-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "modelops-operator.leaseName" -}}
{{- default (include "modelops-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* The image reference: a digest pins it, otherwise the tag (default: appVersion). */}}
{{- define "modelops-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The RBAC rules the operator needs in every namespace it watches. They mirror
operator/modelops_operator/adapters/kube.py and the kopf handlers:
* modeldeployments: kopf lists and watches them and patches its progress
  annotations on them; the engine reads them. Never create, update or delete.
* modeldeployments/status: the engine's one merge patch per reconcile.
* deployments: server-side apply (patch, create when absent), delete, and
  kopf's watch of child Deployments (their availability drives Ready).
* services: server-side apply and delete of each track's Service.
* jobs: the retraining Jobs (deterministic names, applied idempotently) and
  the watch that reports their outcome.
* events: core/v1 Events for every decision (engine and kopf).
* httproutes: only with gatewayAPI.enabled (GatewayAPI traffic router).
No wildcards, no Secrets, no ConfigMaps, no Pods.
*/}}
{{- define "modelops-operator.rules" -}}
- apiGroups: ["modelops.io"]
  resources: ["modeldeployments"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["modelops.io"]
  resources: ["modeldeployments/status"]
  verbs: ["get", "patch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["services"]
  verbs: ["get", "list", "create", "patch", "delete"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# Batch scoring (spec.batch): the schedule's CronJob, and the pods of a run's
# Job, whose termination messages hold each shard's summary.
- apiGroups: ["batch"]
  resources: ["cronjobs"]
  verbs: ["get", "list", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- if .Values.gatewayAPI.enabled }}
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["httproutes"]
  verbs: ["get", "list", "create", "patch", "delete"]
{{- end }}
{{- end }}

{{/* Namespaces the model PodMonitor scrapes: its own list, else the watched ones. */}}
{{- define "modelops-operator.modelNamespaces" -}}
{{- if .Values.models.podMonitor.namespaces }}
{{- toJson .Values.models.podMonitor.namespaces }}
{{- else }}
{{- toJson .Values.watch.namespaces }}
{{- end }}
{{- end }}

{{/* The retraining ServiceAccount policy and its binding (cluster-scoped: named after the release). */}}
{{- define "modelops-operator.admissionPolicyName" -}}
{{- printf "%s-retraining" (include "modelops-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
