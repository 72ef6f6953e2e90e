package hydraadmin

import "testing"

func TestNextPageToken(t *testing.T) {
	for _, tt := range []struct {
		links []string
		want  string
	}{
		{nil, ""},
		{[]string{`</admin/clients?page_size=1000&page_token=eyJvZmZzZXQiOjEwMDB9>; rel="next"`}, "eyJvZmZzZXQiOjEwMDB9"},
		{[]string{`</admin/clients?page_size=1000&page_token=Zmlyc3Q>; rel="first",</admin/clients?page_size=1000&page_token=bmV4dA>; rel="next"`}, "bmV4dA"},
		{[]string{`</admin/clients?page_size=1000&page_token=Zmlyc3Q>; rel="first"`}, ""},
	} {
		if got := nextPageToken(tt.links); got != tt.want {
			t.Errorf("nextPageToken(%q) = %q, want %q", tt.links, got, tt.want)
		}
	}
}
