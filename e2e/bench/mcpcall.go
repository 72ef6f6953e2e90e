package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// loadCall is the tools/call every load sends: a DB-backed tool (an RLS
// transaction reading the team's invoices) with a small page.
var loadCall = []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_invoices","arguments":{"limit":5}}}`)

// errRefused is a 401: the token was not accepted.
var errRefused = errors.New("refused (HTTP 401)")

// mcpClient is one MCP client: its own HTTP connection to one server, one
// access token.
type mcpClient struct {
	hc    *http.Client
	url   string // http://127.0.0.1:port/mcp
	token string
}

// newClient returns a client with a connection pool of its own, as a
// separate MCP client process would have.
func newClient(addr, token string) *mcpClient {
	return &mcpClient{
		hc: &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
				MaxIdleConnsPerHost: 1,
				IdleConnTimeout:     time.Minute,
				DisableCompression:  true,
			},
		},
		url:   "http://" + addr + "/mcp",
		token: token,
	}
}

func (c *mcpClient) close() { c.hc.CloseIdleConnections() }

// call posts one JSON-RPC request and checks that it succeeded: HTTP 200, a
// result, and no tool error. A 401 is errRefused.
func (c *mcpClient) call(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case err != nil:
		return err
	case resp.StatusCode == http.StatusUnauthorized:
		return errRefused
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, data)
	}
	var msg struct {
		Result *struct {
			IsError bool `json:"isError"`
		} `json:"result"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	switch err := json.Unmarshal(data, &msg); {
	case err != nil:
		return fmt.Errorf("undecodable answer: %v", err)
	case msg.Error != nil:
		return fmt.Errorf("JSON-RPC error: %s", msg.Error.Message)
	case msg.Result == nil:
		return errors.New("answer without a result")
	case msg.Result.IsError:
		return fmt.Errorf("tool error: %.200s", data)
	}
	return nil
}

// clients makes n clients of addr, spreading the grants' tokens over them.
func clients(n int, addr string, grants []grant) []*mcpClient {
	cs := make([]*mcpClient, n)
	for i := range cs {
		cs[i] = newClient(addr, grants[i%len(grants)].token)
	}
	return cs
}

func closeAll(cs []*mcpClient) {
	for _, c := range cs {
		c.close()
	}
}

// decodeJSON reads a 200 answer's JSON body into v.
func decodeJSON(resp *http.Response, v any) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}
