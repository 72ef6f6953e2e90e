package tools

import (
	"context"
	"regexp"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The SDK checks arguments against the input schema before a handler runs
// and reports a failure as a tool error such as
//
//	validating "arguments": validating root: validating /properties/lines:
//	validating /properties/lines/items: validating
//	/properties/lines/items/properties/quantity: exclusiveMinimum: 0/1 is
//	less than or equal to 0.000000
//
// which names the problem but buries it. explainArgumentErrors rewrites it
// to "invalid argument lines[].quantity: exclusiveMinimum: 0 is less than or
// equal to 0; …", the form the handlers' own argument errors take.
func explainArgumentErrors(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		if r, ok := res.(*mcp.CallToolResult); ok && err == nil && r.IsError && len(r.Content) == 1 {
			if text, ok := r.Content[0].(*mcp.TextContent); ok {
				text.Text = explainSchemaError(text.Text)
			}
		}
		return res, err
	}
}

const schemaErrorPrefix = `validating "arguments": `

var (
	// The last "validating <pointer>: " names the argument.
	schemaPointer = regexp.MustCompile(`validating (/[^:]*): `)
	// The validator prints numbers as rationals and fixed-point floats.
	schemaRational = regexp.MustCompile(`\b(-?\d+)/1\b`)
	schemaFloat    = regexp.MustCompile(`\b(-?\d+)\.0+\b`)
)

// explainSchemaError rewrites an SDK argument-validation message; any other
// text is returned unchanged.
func explainSchemaError(msg string) string {
	if !strings.HasPrefix(msg, schemaErrorPrefix) {
		return msg
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(msg, schemaErrorPrefix), "validating root: ")
	subject := "arguments" // the whole object: missing or unexpected properties
	if m := schemaPointer.FindAllStringSubmatchIndex(rest, -1); len(m) > 0 {
		last := m[len(m)-1]
		subject = "argument " + argumentName(rest[last[2]:last[3]])
		rest = rest[last[1]:]
	}
	rest = schemaFloat.ReplaceAllString(schemaRational.ReplaceAllString(rest, "$1"), "$1")
	return "invalid " + subject + ": " + rest + "; the tool's input schema lists the allowed values"
}

// argumentName turns a schema pointer such as
// /properties/lines/items/properties/quantity into lines[].quantity.
func argumentName(pointer string) string {
	var b strings.Builder
	for _, part := range strings.Split(strings.Trim(pointer, "/"), "/") {
		switch part {
		case "properties":
			if b.Len() > 0 {
				b.WriteByte('.')
			}
		case "items":
			b.WriteString("[]")
		default:
			b.WriteString(part)
		}
	}
	return b.String()
}
