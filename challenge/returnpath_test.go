package challenge

import (
	"strings"
	"testing"
)

func TestSafeReturn(t *testing.T) {
	const prefix = "/.mfa/"
	kept := []string{
		"/",
		"/a?b=c",
		"/wiki/Main_Page#History",
		"/search?q=a%20b&next=%2F%2Fevil.com", // encoded slashes in the query are the app's business
		"/files/report%202025.pdf",
		"/caf%C3%A9",
		"/.mfaX/login",    // nor this
		"/app/.mfa/login", // the prefix only counts at the start
	}
	for _, raw := range kept {
		if got := SafeReturn(raw, prefix); got != raw {
			t.Errorf("SafeReturn(%q) = %q, want it kept", raw, got)
		}
	}

	refused := []string{
		"",
		"evil",
		"evil.com/x",
		"//evil.com",
		"//evil.com/path",
		"///evil.com",
		"/\\evil.com",
		"\\\\evil.com",
		"https://evil.com",
		"http:evil.com",
		"javascript:alert(1)",
		"JavaScript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"/%0d%0aSet-Cookie:%20a=b",
		"/%0aLocation:%20https://evil.com",
		"/\r\nSet-Cookie: a=b",
		"/\tx",
		"/x\x00",
		"/x\x7f",
		"/%2f%2fevil.com", // decodes to //evil.com
		"/%5cevil.com",    // decodes to /\evil.com
		"/.mfa/login",     // back into the portal: a loop, or a sign-out after sign-in
		"/.mfa/logout",
		"/.mfa", // the handler serves the prefix without its slash as the portal
		"/%2Emfa/logout",
		"/./.mfa/logout",
		"/x/../.mfa/logout",
		"/" + strings.Repeat("a", 2048),
	}
	for _, raw := range refused {
		if got := SafeReturn(raw, prefix); got != "/" {
			t.Errorf("SafeReturn(%q) = %q, want /", raw, got)
		}
	}
}

func TestSafeReturnOtherPrefix(t *testing.T) {
	if got := SafeReturn("/auth/login", "/auth/"); got != "/" {
		t.Errorf("path into a custom portal prefix kept: %q", got)
	}
	if got := SafeReturn("/.mfa/login", "/auth/"); got != "/.mfa/login" {
		t.Errorf("path outside a custom portal prefix refused: %q", got)
	}
}
