package challenge

import (
	"strings"
	"testing"
)

func TestSafeReturnURL(t *testing.T) {
	const prefix = "/.mfa/"
	hosts := ReturnHosts{Domain: "example.com", Hosts: []string{"wiki.example.org", "app.test.localhost"}}
	kept := []string{
		"https://example.com",
		"https://example.com/",
		"https://app.example.com/a?b=c#d",
		"https://deep.app.example.com:8443/x",
		"https://wiki.example.org/Main_Page",
		"https://xn--80ak6aa92e.example.com/", // punycode under the domain is still the domain's
		"http://app.test.localhost:8080/x",    // plain http to this machine
		"https://app.example.com/search?next=%2F%2Fevil.com",
		"https://app.example.com/app/.mfa/login", // the prefix only counts at the start
	}
	for _, raw := range kept {
		if got := SafeReturnURL(raw, prefix, hosts); got != raw {
			t.Errorf("SafeReturnURL(%q) = %q, want it kept", raw, got)
		}
	}
	refused := []string{
		"",
		"/local/path", // same-origin paths are SafeReturn's
		"//evil.com",
		"///evil.com",
		"https:evil.com",
		"https:/evil.com",
		"javascript://example.com/%0aalert(1)",
		"ftp://app.example.com/",
		"HTTPS://app.example.com/", // written oddly: refused rather than guessed at
		"https://evil.example.net/",
		"https://evil.com/",
		"https://example.com.evil.com/",
		"https://login.example.com.evil.com/",
		"https://evilexample.com/",
		"https://evil.com\\@login.example.com/",
		"https://evil.com\\.example.com/",
		"https://evil.com@login.example.com/",
		"https://login.example.com@evil.com/",
		"https://user:pw@login.example.com/",
		"https://login.example.com%2f@evil.com/",
		"https://evil.com%2f.example.com/",
		"https://evil.com%2e.example.com/",
		"https://login%2eexample.com/",
		"https://%65vil.example.com/", // encoded letters in a host
		"https://Login.Example.com/",
		"https://login.example.com./",
		"https://login..example.com/",
		"https://exаmple.com/",                   // Cyrillic а
		"https://app.exаmple.com/",               // Cyrillic а in the registered part
		"https://app.example.com\u3002evil.com/", // ideographic full stop
		"https://app.example.com:0/",
		"https://app.example.com:99999/",
		"https://app.example.com:08080/",
		"https://app.example.com:http/",
		"https://app.example.com:/",
		"https://[::1]/",
		"https://app.example.com/x\r\nSet-Cookie: a=b",
		"https://app.example.com/x%0d%0aSet-Cookie:%20a=b",
		"https://app.example.com/%2f%2fevil.com",
		"https://app.example.com//evil.com",
		"https://app.example.com/x y",
		"https://app.example.com\t/",
		"https://app.example.com/.mfa/logout",
		"https://app.example.com/x/../.mfa/logout",
		"https://app.example.com/.mfa",
		"http://app.example.com/", // plain http over the network
		"http://wiki.example.org/",
		"https://app.example.com/" + strings.Repeat("a", 2048),
	}
	for _, raw := range refused {
		if got := SafeReturnURL(raw, prefix, hosts); got != "" {
			t.Errorf("SafeReturnURL(%q) = %q, want it refused", raw, got)
		}
	}
	if got := SafeReturnURL("https://app.example.com/", prefix, ReturnHosts{}); got != "" {
		t.Errorf("no allowed hosts: got %q, want it refused", got)
	}
}

func TestReturnHostsAllows(t *testing.T) {
	h := ReturnHosts{Domain: ".Example.com", Hosts: []string{"Other.org"}}
	for host, want := range map[string]bool{
		"example.com": true, "a.example.com": true, "other.org": true,
		"": false, "xexample.com": false, "example.com.evil": false, "a.other.org": false,
	} {
		if got := h.Allows(host); got != want {
			t.Errorf("Allows(%q) = %v, want %v", host, got, want)
		}
	}
}
