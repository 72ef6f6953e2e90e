package introspect

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkIntrospect compares verifying a token through Hydra's
// introspection endpoint (here an httptest server answering like Hydra, so
// the figure is the client's HTTP round trip on loopback without Hydra's own
// work) with a warm cache in front of it: the verification cache hit of the
// gate's hot path. scripts/bench sets the cached-parallel figure against the
// real Hydra's throughput (docs/benchmarks.md, P2).
//
//	go test -run '^$' -bench Introspect -benchmem ./internal/introspect/
func BenchmarkIntrospect(b *testing.B) {
	answer, _ := json.Marshal(map[string]any{
		"active": true, "token_use": "access_token", "aud": []string{"http://localhost:8080/mcp"},
		"exp": time.Now().Add(time.Hour).Unix(), "sub": "77777777-7777-7777-7777-777777777777", "client_id": "client-1",
		"scope": "invoices:read accounting:read offline_access",
		"ext":   map[string]any{"team_id": "11111111-1111-1111-1111-111111111111", "connection_id": "33333333-3333-3333-3333-333333333333"},
	})
	hydra := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer hydra.Close()
	client := New(hydra.URL+"/admin/oauth2/introspect", nil)
	const token = "ory_at_benchmarktoken.signature"

	for _, bc := range []struct {
		name string
		in   Introspector
	}{
		{"uncached", client},
		{"cached", NewCache(client, CacheOptions{MaxTTL: time.Minute})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			if _, err := bc.in.Introspect(ctx, token); err != nil { // warm up (and fill the cache)
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := bc.in.Introspect(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
		// All cores at once, as under load. Every 64th call is timed for
		// the latency percentiles (p50-ns, p99-ns; scripts/bench reports
		// them), which include the clock reads.
		b.Run(bc.name+"-parallel", func(b *testing.B) {
			var mu sync.Mutex
			var samples []time.Duration
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for i := 0; pb.Next(); i++ {
					var began time.Time
					if i%64 == 0 {
						began = time.Now()
					}
					if _, err := bc.in.Introspect(context.Background(), token); err != nil {
						b.Error(err)
						return
					}
					if i%64 == 0 {
						mine = append(mine, time.Since(began))
					}
				}
				mu.Lock()
				samples = append(samples, mine...)
				mu.Unlock()
			})
			slices.Sort(samples)
			if len(samples) > 0 {
				b.ReportMetric(float64(samples[len(samples)/2]), "p50-ns")
				b.ReportMetric(float64(samples[(len(samples)*99)/100]), "p99-ns")
			}
		})
	}
}
