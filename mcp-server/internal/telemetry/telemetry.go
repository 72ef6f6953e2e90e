// Package telemetry holds the MCP server's Prometheus metrics. A nil
// *Metrics records nothing, so the server and its tests need no registry.
package telemetry

import (
	"context"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/mcp-server/internal/introspect"
	"github.com/mcp-oauth/ops/metrics"
)

// Metrics are the MCP server's counters and histograms.
type Metrics struct {
	http          *metrics.HTTP
	toolCalls     *prometheus.CounterVec
	toolDuration  *prometheus.HistogramVec
	cacheLookups  *prometheus.CounterVec
	introspection *prometheus.HistogramVec

	connectionLookups       *prometheus.CounterVec
	connectionListener      prometheus.Gauge
	connectionNotifications prometheus.Counter
	auditDropped            prometheus.Counter
}

// New registers the MCP server's metrics on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		http: metrics.NewHTTP(reg),
		toolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_tool_calls_total", Help: "MCP tool calls by tool and outcome: ok, tool_error (the tool answered with an error), error (the call failed).",
		}, []string{"tool", "outcome"}),
		toolDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mcp_tool_call_duration_seconds", Help: "MCP tool call latency by tool.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"tool"}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verification_cache_lookups_total", Help: "Introspection cache lookups: hit or miss.",
		}, []string{"result"}),
		introspection: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "introspection_duration_seconds", Help: "Calls to Hydra's introspection endpoint by outcome: ok or error.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"outcome"}),
		connectionLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connection_cache_lookups_total", Help: "Connection state lookups: hit (memory) or miss (database).",
		}, []string{"result"}),
		connectionListener: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "connection_listener_up", Help: "1 while the revocation listener (PostgreSQL LISTEN) is connected; 0 means every request reads the database.",
		}),
		connectionNotifications: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "connection_notifications_total", Help: "Connection change notifications received (revocations, membership ends).",
		}),
		auditDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "audit_events_dropped_total", Help: "Audit events dropped because the queue was full or the database refused them.",
		}),
	}
	reg.MustRegister(m.toolCalls, m.toolDuration, m.cacheLookups, m.introspection,
		m.connectionLookups, m.connectionListener, m.connectionNotifications, m.auditDropped)
	return m
}

// ConnectionLookup records a connection cache hit or miss.
func (m *Metrics) ConnectionLookup(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.connectionLookups.WithLabelValues("hit").Inc()
	} else {
		m.connectionLookups.WithLabelValues("miss").Inc()
	}
}

// ConnectionListener records whether the revocation listener is connected.
func (m *Metrics) ConnectionListener(up bool) {
	if m == nil {
		return
	}
	if up {
		m.connectionListener.Set(1)
	} else {
		m.connectionListener.Set(0)
	}
}

// ConnectionNotification counts one change notification.
func (m *Metrics) ConnectionNotification() {
	if m != nil {
		m.connectionNotifications.Inc()
	}
}

// AuditDropped counts n audit events that were never written.
func (m *Metrics) AuditDropped(n int) {
	if m != nil {
		m.auditDropped.Add(float64(n))
	}
}

// Request records one HTTP request by route pattern.
func (m *Metrics) Request(route string, status int, d time.Duration) {
	if m != nil {
		m.http.Observe(route, status, d)
	}
}

// CacheLookup records a verification cache hit or miss.
func (m *Metrics) CacheLookup(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.cacheLookups.WithLabelValues("hit").Inc()
	} else {
		m.cacheLookups.WithLabelValues("miss").Inc()
	}
}

// ToolCalls is MCP middleware counting tools/call by tool and outcome.
func (m *Metrics) ToolCalls(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		p, ok := req.GetParams().(*mcp.CallToolParamsRaw)
		if m == nil || method != "tools/call" || !ok {
			return next(ctx, method, req)
		}
		start := time.Now()
		res, err := next(ctx, method, req)
		outcome := contract.OutcomeOK
		if r, isCall := res.(*mcp.CallToolResult); err != nil {
			outcome = contract.OutcomeError
		} else if isCall && r.IsError {
			outcome = contract.OutcomeToolError
		}
		m.toolCalls.WithLabelValues(p.Name, string(outcome)).Inc()
		m.toolDuration.WithLabelValues(p.Name).Observe(time.Since(start).Seconds())
		return res, err
	}
}

// Introspector is what the gate verifies tokens with.
type Introspector interface {
	Introspect(ctx context.Context, token string) (*introspect.Result, error)
}

// TimedIntrospector measures each call to next, Hydra's endpoint.
func (m *Metrics) TimedIntrospector(next Introspector) Introspector {
	if m == nil {
		return next
	}
	return timed{next: next, h: m.introspection}
}

type timed struct {
	next Introspector
	h    *prometheus.HistogramVec
}

func (t timed) Introspect(ctx context.Context, token string) (*introspect.Result, error) {
	start := time.Now()
	res, err := t.next.Introspect(ctx, token)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	t.h.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	return res, err
}
