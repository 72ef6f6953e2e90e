package store

// The queries the token hook and the consent step run, for their plans'
// test (plans_test.go).
const (
	ConnectionStateQuery  = connectionStateQuery
	RecordConnectionQuery = recordConnectionQuery
	UserByIDQuery         = userByIDQuery
	TeamsOfUserQuery      = teamsOfUserQuery
)
