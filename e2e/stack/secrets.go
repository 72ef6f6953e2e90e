package stack

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Secrets are the stack's shared secrets. Never log them.
type Secrets struct {
	// System is Hydra's SECRETS_SYSTEM. Hydra encrypts its signing keys in
	// its database with it, so a kept database needs the same value again.
	System string `json:"secrets_system"`
	// TokenHookAPIKey authenticates Hydra's token hook calls to the consent
	// app (header X-Token-Hook-Key).
	TokenHookAPIKey string `json:"token_hook_api_key"`
	// CookieSecret signs the consent app's session cookies.
	CookieSecret string `json:"cookie_secret"`
}

// loadSecrets returns the secrets kept in path, creating the file (0600)
// with random values on first use; path "" gives fresh random secrets.
func loadSecrets(path string) (Secrets, error) {
	var s Secrets
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			if err := json.Unmarshal(data, &s); err != nil {
				return s, fmt.Errorf("secrets file %s: %w", path, err)
			}
		case !errors.Is(err, os.ErrNotExist):
			return s, err
		}
	}
	before := s
	for _, v := range []*string{&s.System, &s.TokenHookAPIKey, &s.CookieSecret} {
		if *v == "" {
			*v = randomSecret()
		}
	}
	if path == "" || s == before {
		return s, nil
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return s, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return s, err
	}
	return s, os.WriteFile(path, append(data, '\n'), 0o600)
}

// randomSecret returns 256 random bits as 64 hex characters: above every
// minimum length (Hydra's 16, the consent app's 32).
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails on Linux
	return hex.EncodeToString(b)
}

// randomName returns a database name unlikely to clash between parallel tests.
func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
