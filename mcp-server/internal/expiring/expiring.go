// Package expiring is a size-bounded map whose entries expire: the storage
// of the MCP server's in-memory caches (introspection answers, connection
// state). It does no locking; each cache holds its own lock around it.
package expiring

import "time"

// Map holds at most Max entries. The zero value is not usable; use New.
type Map[K comparable, V any] struct {
	max     int
	entries map[K]entry[V]
}

type entry[V any] struct {
	value   V
	expires time.Time
}

// New returns an empty Map holding at most max entries.
func New[K comparable, V any](max int) *Map[K, V] {
	return &Map[K, V]{max: max, entries: make(map[K]entry[V])}
}

// Get returns the value for k if it has not expired at now; an expired
// entry is dropped.
func (m *Map[K, V]) Get(k K, now time.Time) (V, bool) {
	e, ok := m.entries[k]
	if ok && now.Before(e.expires) {
		return e.value, true
	}
	if ok {
		delete(m.entries, k)
	}
	var zero V
	return zero, false
}

// Put keeps v for k until expires. When the map is full it first drops the
// entries expired at now, then arbitrary ones.
func (m *Map[K, V]) Put(k K, v V, expires, now time.Time) {
	if _, ok := m.entries[k]; !ok && len(m.entries) >= m.max {
		for key, e := range m.entries {
			if !now.Before(e.expires) {
				delete(m.entries, key)
			}
		}
		for key := range m.entries {
			if len(m.entries) < m.max {
				break
			}
			delete(m.entries, key)
		}
	}
	m.entries[k] = entry[V]{value: v, expires: expires}
}

// Delete drops k.
func (m *Map[K, V]) Delete(k K) { delete(m.entries, k) }

// Clear drops everything.
func (m *Map[K, V]) Clear() { clear(m.entries) }

// Len is the number of entries held, expired ones included.
func (m *Map[K, V]) Len() int { return len(m.entries) }
