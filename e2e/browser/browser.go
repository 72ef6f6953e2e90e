// Package browser is a small scripted web browser for whole-stack tests: a
// cookie jar, redirects followed within the auth origin, and HTML forms read
// and submitted the way a person's browser would, hidden CSRF fields included.
// It stops at the first redirect that leaves the auth origin: that is the
// authorization response addressed to the OAuth client.
package browser

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// Browser drives pages on one origin.
type Browser struct {
	Origin *url.URL
	client *http.Client
}

// New returns a browser that stays on origin.
func New(origin string) (*Browser, error) {
	o, err := url.Parse(origin)
	if err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil)
	b := &Browser{Origin: o}
	b.client = &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > 20 {
				return errors.New("too many redirects")
			}
			if req.URL.Host != o.Host || req.URL.Scheme != o.Scheme {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return b, nil
}

// SetTransport sends the browser's requests through rt, for example one
// that connects from another loopback address.
func (b *Browser) SetTransport(rt http.RoundTripper) { b.client.Transport = rt }

// Page is a loaded HTML page, or the redirect that left the origin.
type Page struct {
	Status int
	URL    *url.URL
	Body   string
	// LeftOrigin is the redirect target outside the origin, nil otherwise.
	LeftOrigin *url.URL
	doc        *html.Node
}

// Get loads u.
func (b *Browser) Get(u string) (*Page, error) {
	resp, err := b.client.Get(u)
	if err != nil {
		return nil, err
	}
	return read(resp)
}

func read(resp *http.Response) (*Page, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	p := &Page{Status: resp.StatusCode, URL: resp.Request.URL, Body: string(body)}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc, err := resp.Location()
		if err != nil {
			return nil, fmt.Errorf("redirect without location: %w", err)
		}
		p.LeftOrigin = loc
		return p, nil
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if p.doc, err = html.Parse(strings.NewReader(p.Body)); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Form is one <form> of a page, with its current field values.
type Form struct {
	Action string
	Method string
	Values url.Values
	// Buttons are the form's submit buttons as name=value pairs.
	Buttons url.Values
	radios  map[string][]Option
	page    *Page
}

// Option is a radio button: its value and the text of its label.
type Option struct{ Value, Label string }

// Form returns the page's first form that has a field with the given name.
func (p *Page) Form(field string) (*Form, error) {
	forms, err := p.forms()
	if err != nil {
		return nil, err
	}
	for _, f := range forms {
		if f.Values.Has(field) || len(f.radios[field]) > 0 {
			return f, nil
		}
	}
	return nil, fmt.Errorf("no form with field %q on %s (HTTP %d): %.300s", field, p.URL, p.Status, p.Body)
}

// FormTo returns the page's first form that posts to action.
func (p *Page) FormTo(action string) (*Form, error) {
	forms, err := p.forms()
	if err != nil {
		return nil, err
	}
	for _, f := range forms {
		if f.Action == action {
			return f, nil
		}
	}
	return nil, fmt.Errorf("no form posting to %s on %s (HTTP %d): %.300s", action, p.URL, p.Status, p.Body)
}

// forms reads the page's forms in document order.
func (p *Page) forms() ([]*Form, error) {
	if p.doc == nil {
		return nil, fmt.Errorf("page %s (HTTP %d) is not HTML", p.URL, p.Status)
	}
	var forms []*Form
	var walk func(n *html.Node, f *Form)
	walk = func(n *html.Node, f *Form) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				f = &Form{Action: attr(n, "action"), Method: strings.ToUpper(attr(n, "method")), Values: url.Values{}, Buttons: url.Values{}, radios: map[string][]Option{}, page: p}
				forms = append(forms, f)
			case "button":
				if f != nil && attr(n, "name") != "" && (attr(n, "type") == "" || attr(n, "type") == "submit") {
					f.Buttons.Add(attr(n, "name"), attr(n, "value"))
				}
			case "input":
				if f != nil {
					name, typ := attr(n, "name"), attr(n, "type")
					switch {
					case name == "":
					case typ == "submit":
						f.Buttons.Add(name, attr(n, "value"))
					case typ == "checkbox":
						if hasAttr(n, "checked") {
							f.Values.Add(name, attr(n, "value"))
						}
					case typ == "radio":
						f.radios[name] = append(f.radios[name], Option{Value: attr(n, "value"), Label: strings.TrimSpace(text(n.Parent))})
						if hasAttr(n, "checked") {
							f.Values.Set(name, attr(n, "value"))
						}
					default:
						f.Values.Set(name, attr(n, "value"))
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, f)
		}
	}
	walk(p.doc, nil)
	return forms, nil
}

// Options lists the radio buttons named name.
func (f *Form) Options(name string) []Option { return f.radios[name] }

// Choose checks the radio button whose label is label.
func (f *Form) Choose(name, label string) error {
	for _, o := range f.radios[name] {
		if o.Label == label {
			f.Values.Set(name, o.Value)
			return nil
		}
	}
	return fmt.Errorf("no %q option labelled %q among %v", name, label, f.radios[name])
}

// Post posts vals to u as a form, whatever the pages offer: for requests a
// person could only forge.
func (b *Browser) Post(u string, vals url.Values) (*Page, error) {
	resp, err := b.client.PostForm(u, vals)
	if err != nil {
		return nil, err
	}
	return read(resp)
}

// Submit posts the form as if the button name=value was pressed; button ""
// submits without one (as pressing Enter in a field does). A button the form
// does not have is an error: a person could not press it.
func (b *Browser) Submit(f *Form, button, value string) (*Page, error) {
	if button != "" && !slices.Contains(f.Buttons[button], value) {
		return nil, fmt.Errorf("the form has no button %s=%s (it has %v)", button, value, f.Buttons)
	}
	action, err := f.page.URL.Parse(f.Action)
	if err != nil {
		return nil, err
	}
	vals := url.Values{}
	for k, v := range f.Values {
		vals[k] = append([]string(nil), v...)
	}
	if button != "" {
		vals.Set(button, value)
	}
	resp, err := b.client.PostForm(action.String(), vals)
	if err != nil {
		return nil, err
	}
	return read(resp)
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func text(n *html.Node) string {
	var sb strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return sb.String()
}
