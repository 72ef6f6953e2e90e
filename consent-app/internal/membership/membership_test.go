package membership

import (
	"errors"
	"testing"

	"github.com/mcp-oauth/consent-app/internal/store"
)

func TestDecide(t *testing.T) {
	owner := store.Member{UserID: "o1", Role: "owner"}
	owner2 := store.Member{UserID: "o2", Role: "owner"}
	admin := store.Member{UserID: "a1", Role: "admin"}
	admin2 := store.Member{UserID: "a2", Role: "admin"}
	member := store.Member{UserID: "m1", Role: "member"}
	member2 := store.Member{UserID: "m2", Role: "member"}
	one := []store.Member{owner, admin, admin2, member, member2}
	two := append([]store.Member{owner2}, one...)
	tests := []struct {
		name          string
		actor, target store.Member
		members       []store.Member
		want          error
	}{
		{"owner removes member", owner, member, one, nil},
		{"owner removes admin", owner, admin, one, nil},
		{"owner removes another owner", owner, owner2, two, nil},
		{"admin removes member", admin, member, one, nil},
		{"admin removes admin", admin, admin2, one, ErrNotAllowed},
		{"admin removes owner", admin, owner, one, ErrNotAllowed},
		{"member removes member", member, member2, one, store.ErrNotFound},
		{"member removes owner", member, owner, one, store.ErrNotFound},
		{"member leaves", member, member, one, nil},
		{"admin leaves", admin, admin, one, nil},
		{"last owner leaves", owner, owner, one, ErrLastOwner},
		{"one of two owners leaves", owner, owner, two, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(tt.actor, tt.target, tt.members); !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
				t.Errorf("Decide = %v, want %v", got, tt.want)
			}
		})
	}
}
