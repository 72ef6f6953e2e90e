package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// calledTools reads a POST body (up to MaxBodyBytes), puts it back for the
// MCP layer, and returns the names of the tools it calls: one for a JSON-RPC
// tools/call request, several for a batch. Anything it cannot parse yields
// no tools and is left for the MCP layer to refuse. A non-zero status means
// the body could not be read.
func calledTools(w http.ResponseWriter, r *http.Request) (tools []string, status int) {
	if r.Method != http.MethodPost || r.Body == nil {
		return nil, 0
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	r.Body.Close()
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			return nil, http.StatusRequestEntityTooLarge
		}
		return nil, http.StatusBadRequest
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	// A batch is an array of messages. (Do not decode into a slice that
	// already holds body: json.RawMessage would overwrite it in place.)
	body = bytes.TrimSpace(body)
	var msgs []json.RawMessage
	if len(body) > 0 && body[0] == '[' {
		if json.Unmarshal(body, &msgs) != nil {
			return nil, 0
		}
	} else {
		msgs = []json.RawMessage{body}
	}
	for _, m := range msgs {
		if name, ok := toolCallName(m); ok {
			tools = append(tools, name)
		}
	}
	return tools, 0
}

// toolCallName returns params.name of a tools/call message. It decodes into
// maps rather than structs because encoding/json matches struct fields
// case-insensitively while the go-sdk does not: {"name":"a","NAME":"b"} must
// not read as "b" here and "a" there. The tools re-check their scope anyway.
func toolCallName(msg json.RawMessage) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(msg, &m) != nil {
		return "", false
	}
	var method string
	if json.Unmarshal(m["method"], &method) != nil || method != "tools/call" {
		return "", false
	}
	var params map[string]json.RawMessage
	if json.Unmarshal(m["params"], &params) != nil {
		return "", false
	}
	var name string
	if json.Unmarshal(params["name"], &name) != nil {
		return "", false
	}
	return name, true
}

// writeError sends the short JSON body every refusal carries: an OAuth-style
// error code and a sentence telling the developer what to do.
func writeError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // keep "<token>" readable; this is not HTML
	enc.Encode(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, description})
}
