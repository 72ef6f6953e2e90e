package loopback

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	hydra "github.com/ory/hydra-client-go/v2"
)

type fakeClients struct {
	clients []hydra.OAuth2Client
	sets    map[string][]string
}

func (f *fakeClients) ListClients(context.Context) ([]hydra.OAuth2Client, error) {
	return f.clients, nil
}

func (f *fakeClients) SetRedirectURIs(_ context.Context, id string, uris []string) error {
	f.sets[id] = uris
	for i := range f.clients {
		if f.clients[i].GetClientId() == id {
			f.clients[i].RedirectUris = uris
		}
	}
	return nil
}

func TestUpgrade(t *testing.T) {
	f := &fakeClients{sets: map[string][]string{}, clients: []hydra.OAuth2Client{
		{ClientId: hydra.PtrString("old"), RedirectUris: []string{"http://localhost/callback", "http://127.0.0.1/callback"}},
		{ClientId: hydra.PtrString("new"), RedirectUris: []string{"http://127.82.52.1/callback"}},
		{ClientId: hydra.PtrString("web"), RedirectUris: []string{"https://app.example/cb"}},
	}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := Upgrade(t.Context(), f, log)
	if err != nil || n != 1 {
		t.Fatalf("Upgrade = %d, %v; want 1 client changed", n, err)
	}
	want := []string{"http://localhost/callback", "http://127.0.0.1/callback", "http://127.82.52.1/callback"}
	if !slices.Equal(f.sets["old"], want) || len(f.sets) != 1 {
		t.Errorf("set %v, want only old with %v", f.sets, want)
	}
	if n, _ := Upgrade(t.Context(), f, log); n != 0 {
		t.Errorf("a second pass changed %d clients", n)
	}
}
