package session

import (
	"testing"
	"time"
)

func TestDataExpired(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	d := Data{Created: start.Unix(), LastSeen: start.Unix()}
	tests := []struct {
		name     string
		lastSeen time.Duration // after start
		at       time.Duration // after start
		want     bool
	}{
		{"just created", 0, 0, false},
		{"one second before the idle timeout", 0, idle - time.Second, false},
		{"at the idle timeout", 0, idle, true},
		{"active, within lifetime", 50 * time.Minute, 55 * time.Minute, false},
		{"active, one second before the lifetime", 59 * time.Minute, lifetime - time.Second, false},
		{"active, at the lifetime", 59 * time.Minute, lifetime, true},
		{"long after", 0, 24 * time.Hour, true},
	}
	for _, tt := range tests {
		d.LastSeen = start.Add(tt.lastSeen).Unix()
		if got := d.Expired(start.Add(tt.at), idle, lifetime); got != tt.want {
			t.Errorf("%s: Expired = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDataOf(t *testing.T) {
	f := newFixture(t, nil)
	sess, err := f.s.New(request(nil, false), "mfa")
	if err != nil {
		t.Fatal(err)
	}
	d := DataOf(sess)
	if d.Created != f.clock.Now().Unix() || d.LastSeen != d.Created || d.Level != Anonymous {
		t.Fatalf("fresh session data = %+v, want created now, anonymous", d)
	}
	d.User = "alice"
	if DataOf(sess).User != "alice" {
		t.Fatal("DataOf does not return the session's own data")
	}
	delete(sess.Values, dataKey)
	if d := DataOf(sess); d == nil || d.User != "" {
		t.Fatalf("DataOf of a session without data = %+v", d)
	}
}
