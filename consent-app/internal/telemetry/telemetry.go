// Package telemetry holds the consent app's Prometheus metrics. A nil
// *Metrics records nothing, so handlers and their tests need no registry.
package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcp-oauth/ops/metrics"
)

// Metrics are the consent app's counters.
type Metrics struct {
	http          *metrics.HTTP
	consents      *prometheus.CounterVec
	registrations *prometheus.CounterVec
	tokenHook     *prometheus.CounterVec
	revocations   *prometheus.CounterVec
}

// New registers the consent app's metrics on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		http: metrics.NewHTTP(reg),
		consents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "consent_outcomes_total", Help: "Consent decisions: granted, denied, no_team, refused (a request we reject).",
		}, []string{"outcome"}),
		registrations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "client_registrations_total", Help: "Dynamic client registrations by outcome: created, invalid, unavailable.",
		}, []string{"outcome"}),
		tokenHook: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "token_hook_decisions_total", Help: "Token hook answers: allowed, or refused with the reason.",
		}, []string{"decision"}),
		revocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connection_revocations_total", Help: "Connections revoked, by cause: connection (one, from settings), all_of_user, membership_ended, client_deleted (hygiene).",
		}, []string{"cause"}),
	}
	reg.MustRegister(m.consents, m.registrations, m.tokenHook, m.revocations)
	return m
}

// Request records one HTTP request by route pattern.
func (m *Metrics) Request(route string, status int, d time.Duration) {
	if m != nil {
		m.http.Observe(route, status, d)
	}
}

// Consent records a consent decision.
func (m *Metrics) Consent(outcome string) {
	if m != nil {
		m.consents.WithLabelValues(outcome).Inc()
	}
}

// Registration records a registration outcome.
func (m *Metrics) Registration(outcome string) {
	if m != nil {
		m.registrations.WithLabelValues(outcome).Inc()
	}
}

// TokenHook records a token hook decision.
func (m *Metrics) TokenHook(decision string) {
	if m != nil {
		m.tokenHook.WithLabelValues(decision).Inc()
	}
}

// Revocations records n connections revoked for cause.
func (m *Metrics) Revocations(cause string, n int) {
	if m != nil && n > 0 {
		m.revocations.WithLabelValues(cause).Add(float64(n))
	}
}
