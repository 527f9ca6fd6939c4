package phone

import (
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	for _, ok := range []string{"https://sms.example.com/send", "http://127.0.0.1:8080/x", "http://localhost/x", "http://login.test.localhost:8080/", "http://[::1]:9/"} {
		if _, err := CheckURL(ok); err != nil {
			t.Errorf("CheckURL(%q): %v", ok, err)
		}
	}
	for _, tc := range []struct{ raw, want string }{
		{"http://sms.example.com/send", "https"},
		{"http://10.0.0.5/send", "https"},
		{"http://localhost.example.com/", "https"},
		{"/send", "absolute"},
		{"ftp://example.com/", "absolute"},
		{"https:///nohost", "absolute"},
		{"http://user:secret@sms.example.com/", "https"},
	} {
		_, err := CheckURL(tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckURL(%q) = %v; want an error about %s", tc.raw, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("CheckURL(%q): error %q shows the password", tc.raw, err)
		}
	}
}
