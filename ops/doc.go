// Package ops is the operational plumbing the consent app and the MCP server
// share, so each fact has one home: configuration from the environment
// (envconfig), liveness and readiness (health), Prometheus metrics on a
// separate listener (metrics), request ids in responses and logs
// (requestid), and the skeleton both binaries run on: commands, signals,
// logger, pool, migration lock, HTTP server with graceful drain (service).
package ops
