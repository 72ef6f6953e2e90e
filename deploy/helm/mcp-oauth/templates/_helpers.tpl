{{/* Names: <release>-consent-app, <release>-mcp-server, <release>-secrets. */}}
{{- define "mcp-oauth.name" -}}
{{- printf "%s-%s" .root.Release.Name .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mcp-oauth.secretName" -}}
{{- default (printf "%s-secrets" .Release.Name | trunc 63 | trimSuffix "-") .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "mcp-oauth.labels" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: mcp-oauth
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "mcp-oauth.selector" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* The components and their values, so each kind of object is written once. */}}
{{- define "mcp-oauth.components" -}}
consent-app: consentApp
mcp-server: mcpServer
{{- end -}}

{{- define "mcp-oauth.image" -}}
{{- $img := index .root.Values.images .key -}}
{{- printf "%s:%s" $img.repository (default .root.Chart.AppVersion $img.tag) -}}
{{- end -}}

{{/* Secrets reach the services as files (the _FILE variables), never as plain env. */}}
{{- define "mcp-oauth.secretEnv" -}}
- name: DATABASE_URL_FILE
  value: /etc/mcp-oauth/secrets/database-url
{{- if eq .component "consent-app" }}
- name: TOKEN_HOOK_API_KEY_FILE
  value: /etc/mcp-oauth/secrets/token-hook-api-key
- name: COOKIE_SECRET_FILE
  value: /etc/mcp-oauth/secrets/cookie-secret
{{- end }}
{{- end -}}

{{- define "mcp-oauth.env" -}}
- name: MODE
  value: production
- name: LOG_LEVEL
  value: {{ .root.Values.logLevel | quote }}
- name: LISTEN_ADDR
  value: {{ printf "0.0.0.0:%v" .root.Values.ports.http | quote }}
- name: METRICS_ADDR
  value: {{ printf "0.0.0.0:%v" .root.Values.ports.metrics | quote }}
- name: MCP_RESOURCE_URL
  value: {{ required "mcpResourceURL is required" .root.Values.mcpResourceURL | quote }}
- name: HYDRA_ADMIN_URL
  value: {{ .root.Values.hydra.adminURL | quote }}
{{- if eq .component "consent-app" }}
- name: PUBLIC_URL
  value: {{ required "publicURL is required" .root.Values.publicURL | quote }}
- name: HYDRA_PUBLIC_URL
  value: {{ .root.Values.hydra.publicURL | quote }}
{{- else }}
- name: AUTH_ISSUER
  value: {{ required "publicURL is required" .root.Values.publicURL | quote }}
{{- end }}
{{ include "mcp-oauth.secretEnv" . }}
{{- end -}}
