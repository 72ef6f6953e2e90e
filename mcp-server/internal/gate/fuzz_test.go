package gate

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzInsufficientScopeChallenge: whatever goes into the step-up challenge,
// the header value is one a server may send, and a strict RFC 9110 reader
// gets every parameter back (control characters, which no header carries,
// as spaces).
func FuzzInsufficientScopeChallenge(f *testing.F) {
	f.Add("invoices:write", "accounting:write", metadataURL, "this call needs the scope invoices:write, which the token was not granted; re-authorize asking for it")
	f.Add(`a"b`, `c\d`, `http://x/"y`, "quote \" and backslash \\")
	f.Add("é", "\u2028", "http://localhost/\x7f", "line\r\nbreak\ttab\x00nul")
	f.Fuzz(func(t *testing.T, scopeA, scopeB, metadata, description string) {
		h := insufficientScopeChallenge([]string{scopeA, scopeB}, metadata, description)
		if !validHeaderValue(h) {
			t.Fatalf("not a valid header value: %q", h)
		}
		params, err := parseChallenge(h)
		if err != nil {
			t.Fatalf("%q: %v", h, err)
		}
		want := map[string]string{
			"error":             "insufficient_scope",
			"scope":             headerText(scopeA + " " + scopeB),
			"resource_metadata": headerText(metadata),
			"error_description": headerText(description),
		}
		for name, v := range want {
			if params[name] != v {
				t.Errorf("%s = %q, want %q (header %q)", name, params[name], v, h)
			}
		}
		if len(params) != len(want) {
			t.Errorf("parameters %v, want exactly %v", params, want)
		}
	})
}

// headerText is s as a header can carry it: control characters as spaces.
func headerText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// validHeaderValue is RFC 9110's field-value: visible characters, spaces,
// tabs and obs-text, as net/http's own check (httpguts) accepts.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// parseChallenge reads `Bearer name="value", name="value"` strictly: token
// names, quoted-string values with backslash escapes (RFC 9110 §5.6.4).
func parseChallenge(h string) (map[string]string, error) {
	rest, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return nil, errors.New("no Bearer scheme")
	}
	params := map[string]string{}
	for {
		name, after, ok := strings.Cut(rest, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t\",=\\") {
			return nil, errors.New("bad parameter name")
		}
		if !strings.HasPrefix(after, `"`) {
			return nil, errors.New("value of " + name + " is not quoted")
		}
		var v strings.Builder
		i, closed := 1, false
		for ; i < len(after); i++ {
			switch c := after[i]; {
			case c == '\\' && i+1 < len(after):
				i++
				v.WriteByte(after[i])
			case c == '"':
				closed = true
			case c < 0x20 && c != '\t' || c == 0x7f:
				return nil, errors.New("control character in " + name)
			default:
				v.WriteByte(c)
			}
			if closed {
				break
			}
		}
		if !closed {
			return nil, errors.New("value of " + name + " is not closed")
		}
		if _, dup := params[name]; dup {
			return nil, errors.New("parameter " + name + " twice")
		}
		params[name] = v.String()
		rest = after[i+1:]
		if rest == "" {
			return params, nil
		}
		if rest, ok = strings.CutPrefix(rest, ", "); !ok {
			return nil, errors.New("parameters not separated by a comma")
		}
	}
}

// FuzzBearerToken: a token is accepted only in RFC 6750 syntax, and is then
// exactly the header's credentials.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer ory_at_abc.def", "bearer  x==", "Bearer", "Bearer ", "Basic abc", "Bearer a b", "Bearer ===", "Bearer t\u00f6ken", "Bearer a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, ok := bearerToken(header)
		if !ok {
			return
		}
		scheme, creds, _ := strings.Cut(header, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimLeft(creds, " ") != token {
			t.Fatalf("%q: token %q is not the header's credentials", header, token)
		}
		body := strings.TrimRight(token, "=")
		if body == "" || strings.ContainsFunc(body, func(r rune) bool { return r > 0x7f || !isToken68(byte(r)) }) {
			t.Fatalf("%q: accepted token %q is not token68", header, token)
		}
	})
}

// FuzzCalledTools: whatever the body, the MCP layer gets it back byte for
// byte, and only names of tools/call messages come out.
func FuzzCalledTools(f *testing.F) {
	f.Add([]byte(toolCall("create_invoice")))
	f.Add([]byte(`[` + toolCall("whoami") + `,` + toolCall("create_transaction") + `]`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","NAME":"b"}}`))
	f.Add([]byte(`[[[{}]]]`))
	f.Add([]byte(`{"method":"tools/call","params":{"name":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/mcp", bytes.NewReader(body))
		tools, status := calledTools(httptest.NewRecorder(), r)
		if status != 0 {
			t.Fatalf("status %d for a body of %d bytes", status, len(body))
		}
		back, _ := io.ReadAll(r.Body)
		if !bytes.Equal(back, body) {
			t.Fatalf("the body changed: %q became %q", body, back)
		}
		for _, name := range tools {
			if !bytes.Contains(body, []byte("tools/call")) {
				t.Fatalf("tool %q from a body without a tools/call", name)
			}
		}
	})
}
