package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcp-oauth/catalog"
)

// stepUpLink is what a step-up link's text names besides the scopes.
type stepUpLink struct {
	teamName string
}

// stepUpText tells the person what the call needs and where to grant it:
// the settings page that adds the scopes to this connection, after which the
// client's token works as it is.
func stepUpText(issuer string, link *stepUpLink, connectionID string, missing []string) string {
	labels := make([]string, len(missing))
	for i, s := range missing {
		labels[i] = "“" + catalog.EnglishLabel(s) + "” (" + s + ")"
	}
	grant := issuer + "/settings/connections/" + url.PathEscape(connectionID) + "/grant?scope=" + url.QueryEscape(strings.Join(missing, " "))
	return fmt.Sprintf("This needs the permission %s in the team %s, which this connection was not given. "+
		"To grant it, open %s in your browser and choose Allow, then try again.",
		strings.Join(labels, " and "), link.teamName, grant)
}

// requestID returns the id of the request body when it is one JSON-RPC
// request (not a batch, not a notification), putting the body back. Only
// such a request can be answered with a tool result; the others get the
// 403 challenge.
func requestID(r *http.Request) (json.RawMessage, bool) {
	if r.Body == nil {
		return nil, false
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var m map[string]json.RawMessage
	if err != nil || json.Unmarshal(body, &m) != nil {
		return nil, false
	}
	id, ok := m["id"]
	return id, ok && string(id) != "null"
}

// toolError is a tools/call result with isError set: MCP clients show it
// to the model and the person instead of treating it as a failed request.
type toolError struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  struct {
		Content []textContent `json:"content"`
		IsError bool          `json:"isError"`
	} `json:"result"`
}

type textContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// writeStepUpLink answers the tools/call with a tool error carrying text.
func writeStepUpLink(w http.ResponseWriter, id json.RawMessage, text string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	res := toolError{JSONRPC: "2.0", ID: id}
	res.Result.Content, res.Result.IsError = []textContent{{Type: "text", Text: text}}, true
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // the link must stay readable
	enc.Encode(res)
}
