package caddymodule

import (
	"context"
	"errors"
	"testing"
)

// replyError is an error reply of a Redis server (a redis.Error).
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

// A start-up check that Redis answers with "not ready yet" (after a
// restart, during a failover) is tried again, as one it did not answer is;
// only an answer that says the configuration is wrong is final, holding
// the gateway (or refusing the start) until it is fixed.
func TestRedisCheckErrorsRetriedUnlessConfiguration(t *testing.T) {
	for _, tc := range []struct {
		err   error
		final bool
	}{
		{replyError("LOADING Redis is loading the dataset in memory"), false},
		{replyError("READONLY You can't write against a read only replica."), false},
		{replyError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."), false},
		{replyError("CLUSTERDOWN The cluster is down"), false},
		{replyError("TRYAGAIN Multiple keys request during rehashing of slot"), false},
		{replyError("BUSY Redis is busy running a script."), false},
		{context.DeadlineExceeded, false},
		{errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), false},
		{replyError("NOPERM User gw has no permissions to run the 'set' command"), true},
		{replyError("WRONGPASS invalid username-password pair or user is disabled."), true},
		{replyError("NOAUTH Authentication required."), true},
	} {
		if got := !unreachable(redisFailed("a check", tc.err)); got != tc.final {
			t.Errorf("%v: final %v, want %v", tc.err, got, tc.final)
		}
	}
}
