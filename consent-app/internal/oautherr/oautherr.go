// Package oautherr is the one shape of the auth origin's JSON error answers:
// the error object of RFC 6749 §5.2 and RFC 7591 §3.2.2, and the one writer
// for it. The edge proxy, the metadata, registration and token hook
// endpoints and the router's own answers all write it here.
package oautherr

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Error codes used by the auth origin's own answers.
const (
	InvalidRequest         = "invalid_request"
	InvalidClientMetadata  = "invalid_client_metadata"
	InvalidRedirectURI     = "invalid_redirect_uri"
	TemporarilyUnavailable = "temporarily_unavailable"
	Unauthorized           = "unauthorized"
	NotFound               = "not_found"
	ServerError            = "server_error"
)

// RetryAfterSeconds is what every answer telling a client to come back
// later (a 503, JSON or HTML) puts in Retry-After.
const RetryAfterSeconds = 5

// Error is an OAuth error answer. The description is safe to show.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// New returns the error code with description.
func New(code, description string) *Error {
	return &Error{Code: code, Description: description}
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// SetRetryAfter asks the client to try again in RetryAfterSeconds.
func SetRetryAfter(h http.Header) {
	h.Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
}

// Write answers with e as JSON and status.
func Write(w http.ResponseWriter, status int, e *Error) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}

// Unavailable answers 503 temporarily_unavailable with Retry-After: the
// client may try again shortly.
func Unavailable(w http.ResponseWriter, description string) {
	SetRetryAfter(w.Header())
	Write(w, http.StatusServiceUnavailable, New(TemporarilyUnavailable, description))
}
