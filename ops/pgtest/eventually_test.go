package pgtest

import "testing"

func TestEventually(t *testing.T) {
	n := 0
	Eventually(t, "the third try", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("cond called %d times, want 3: until it holds, and no more", n)
	}
}
