package irfake

import (
	"context"
	"encoding/json"

	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
)

// Load returns a copy of the case, as a table would.
func (s *Store) Load(_ context.Context, id string) (*irworkflow.Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.cases[id]
	if !ok {
		return nil, ErrNotFound
	}
	var c irworkflow.Case
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Save stores a copy of the case.
func (s *Store) Save(_ context.Context, c *irworkflow.Case) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cases[c.CaseID] = b
	return nil
}

// Open creates the case or, when the instance has an open case, returns
// that one's ID and false.
func (s *Store) Open(_ context.Context, c *irworkflow.Case) (string, bool, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.Locks[c.InstanceID]; ok {
		return id, false, nil
	}
	s.Locks[c.InstanceID] = c.CaseID
	s.cases[c.CaseID] = b
	return c.CaseID, true, nil
}

// Close releases the instance's lock held by caseID.
func (s *Store) Close(_ context.Context, instanceID, caseID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Locks[instanceID] == caseID {
		delete(s.Locks, instanceID)
	}
	return nil
}
