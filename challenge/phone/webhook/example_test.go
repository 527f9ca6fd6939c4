package webhook_test

import (
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone/webhook"
)

// The example of the package documentation.
func ExampleSign() {
	secret := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"type":"sms","to":"+819012345678","text":"Your sign-in code is 123456","sent_at":"2026-01-01T00:00:00Z"}`)
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	sig := webhook.Sign(secret, ts, body)
	fmt.Println(ts)
	fmt.Println(sig)
	fmt.Println(webhook.Verify(secret, fmt.Sprint(ts), sig, body, time.Unix(ts+30, 0), 5*time.Minute))
	// Output:
	// 1767225600
	// v1=e754f3779da4d683643aa1064ea7bfd1e76c28ac1d388232d526aa62fe2f3115
	// <nil>
}
