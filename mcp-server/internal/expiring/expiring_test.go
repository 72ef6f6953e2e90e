package expiring

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func TestGetExpires(t *testing.T) {
	m := New[string, int](10)
	m.Put("a", 1, t0.Add(time.Minute), t0)
	if v, ok := m.Get("a", t0.Add(59*time.Second)); !ok || v != 1 {
		t.Errorf("before expiry: %d, %v", v, ok)
	}
	if _, ok := m.Get("a", t0.Add(time.Minute)); ok {
		t.Error("at expiry the entry is still served")
	}
	if m.Len() != 0 {
		t.Errorf("an expired entry that was asked for is kept (%d entries)", m.Len())
	}
}

func TestPutWhenFull(t *testing.T) {
	m := New[string, int](3)
	m.Put("old", 0, t0.Add(time.Second), t0)
	m.Put("b", 1, t0.Add(time.Hour), t0)
	m.Put("c", 2, t0.Add(time.Hour), t0)
	// Full: the expired entry goes first, the live ones stay.
	m.Put("d", 3, t0.Add(time.Hour), t0.Add(time.Minute))
	for _, k := range []string{"b", "c", "d"} {
		if _, ok := m.Get(k, t0.Add(time.Minute)); !ok {
			t.Errorf("%s was dropped while an expired entry could go", k)
		}
	}
	// Full of live entries: one of them makes room.
	m.Put("e", 4, t0.Add(time.Hour), t0.Add(time.Minute))
	if m.Len() != 3 {
		t.Errorf("%d entries, want 3", m.Len())
	}
	if _, ok := m.Get("e", t0.Add(time.Minute)); !ok {
		t.Error("the new entry is missing")
	}
	// Replacing a key held makes no room.
	m.Put("e", 5, t0.Add(time.Hour), t0.Add(time.Minute))
	if m.Len() != 3 {
		t.Errorf("replacing a key dropped another: %d entries", m.Len())
	}
	m.Delete("e")
	m.Clear()
	if m.Len() != 0 {
		t.Errorf("%d entries after Clear", m.Len())
	}
}
