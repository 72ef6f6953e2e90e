package password

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q does not record the parameters", h)
	}
	tests := []struct {
		pw   string
		want bool
	}{
		{"correct horse", true},
		{"correct horse ", false},
		{"", false},
		{strings.Repeat("a", MaxLength+1), false},
	}
	for _, tt := range tests {
		ok, err := Verify(tt.pw, h)
		if err != nil || ok != tt.want {
			t.Errorf("Verify(%.20q) = %v, %v; want %v", tt.pw, ok, err, tt.want)
		}
	}
}

func TestHashesAreSalted(t *testing.T) {
	a, _ := Hash("same")
	b, _ := Hash("same")
	if a == b {
		t.Error("two hashes of one password are equal")
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=x$AAAA$AAAA", "$argon2id$v=19$m=8,t=1,p=1$!!$AAAA"} {
		if _, err := Verify("pw", h); err != ErrMalformedHash {
			t.Errorf("Verify(%q) error = %v, want ErrMalformedHash", h, err)
		}
	}
}

// BenchmarkHash measures one argon2id hash with the Default parameters: the
// cost of every sign-in (Verify does the same work).
func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
