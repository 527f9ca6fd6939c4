package store

import (
	"context"
	"sync"
	"time"
)

// MemoryAccounts keeps accounts in memory. It is for tests and for gateways
// that want nothing on disk; records are kept encoded, as a real store would,
// so callers never share memory with the store.
type MemoryAccounts struct {
	mu  sync.Mutex
	m   map[string][]byte
	now func() time.Time
}

// NewMemoryAccounts returns an empty in-memory account store.
func NewMemoryAccounts() *MemoryAccounts {
	return &MemoryAccounts{m: map[string][]byte{}, now: time.Now}
}

// Get implements Accounts.
func (s *MemoryAccounts) Get(_ context.Context, user string) (*Account, error) {
	s.mu.Lock()
	v, ok := s.m[user]
	s.mu.Unlock()
	if !ok {
		return nil, ErrNotFound
	}
	return decodeAccount(user, v)
}

// Update implements Accounts.
func (s *MemoryAccounts) Update(_ context.Context, user string, fn func(*Account) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := applyUpdate(user, s.m[user], s.now(), fn)
	if err != nil {
		return err
	}
	s.m[user] = v
	return nil
}

// Delete implements Accounts.
func (s *MemoryAccounts) Delete(_ context.Context, user string) error {
	s.mu.Lock()
	delete(s.m, user)
	s.mu.Unlock()
	return nil
}
