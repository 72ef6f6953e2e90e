// Package loopback applies RFC 8252 §7.3 to redirect URIs: a native app
// listens on a loopback port the operating system chose, so an http
// redirect URI on localhost, 127.0.0.1 or [::1] matches a registered one
// that differs only in the port. Everything else is matched exactly.
//
// Hydra v2.3.0 already ignores the port for IP literals, but matches
// localhost exactly, and the real clients' metadata documents list
// http://localhost/callback without a port (docs/design.md, "Hydra and the
// clients"). So the auth edge never shows Hydra a localhost redirect URI:
// HydraForm puts a reserved loopback address in its place — in the clients
// it registers, in authorization and token requests — and ClientForm puts
// localhost back in the redirects Hydra answers with. The browser and the
// token request see the client's own URI byte for byte; Hydra's matching
// for every other host is left as it is.
package loopback
