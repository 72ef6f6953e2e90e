// Package ops is the operational plumbing the consent app and the MCP server
// share, so each fact has one home: configuration from the environment
// (envconfig), liveness and readiness (health), Prometheus metrics on a
// separate listener (metrics), and request ids in responses and logs
// (requestid).
package ops
