package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	secretRE = regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`)
)

// signIn walks a first sign-in (password, authenticator-app enrolment,
// first code) through the portal and returns the session cookie as a
// Cookie header value.
func signIn(ctx context.Context, base, user, password string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(path string) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		req.Header.Set("Accept", "text/html")
		return do(c, req)
	}
	post := func(path string, form url.Values) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html")
		return do(c, req)
	}
	page, err := get("/.mfa/login")
	if err != nil {
		return "", err
	}
	csrf, err := find(csrfRE, page, "CSRF token on the login page")
	if err != nil {
		return "", err
	}
	if _, err := post("/.mfa/login", url.Values{"csrf": {csrf}, "username": {user}, "password": {password}}); err != nil {
		return "", err
	}
	page, err = get("/.mfa/setup/totp")
	if err != nil {
		return "", err
	}
	secret, err := find(secretRE, page, "key on the enrolment page")
	if err != nil {
		return "", err
	}
	if csrf, err = find(csrfRE, page, "CSRF token on the enrolment page"); err != nil {
		return "", err
	}
	code, err := totp.GenerateCodeCustom(strings.ReplaceAll(secret, " ", ""), time.Now(),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", err
	}
	if page, err = post("/.mfa/setup/totp", url.Values{"csrf": {csrf}, "code": {code}}); err != nil {
		return "", err
	}
	if !strings.Contains(page, `class="codes"`) {
		return "", fmt.Errorf("enrolment did not finish:\n%s", page)
	}
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "caddy_mfa" {
			// Check it opens the app before the load run relies on it.
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/bench/page", nil)
			req.Header.Set("Cookie", "caddy_mfa="+ck.Value)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return "", err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return "", fmt.Errorf("signed-in request got %d", resp.StatusCode)
			}
			return "caddy_mfa=" + ck.Value, nil
		}
	}
	return "", fmt.Errorf("no session cookie after sign-in")
}

var appPasswordRE = regexp.MustCompile(`id="app-password">([a-z2-7-]{19})<`)

// appPasswordHeader makes an app password on the security-info page of the
// session cookie and returns the Basic auth header that uses it, after
// checking that it opens the app.
func appPasswordHeader(ctx context.Context, base, cookie, user string) (string, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/.mfa/security", nil)
	req.Header.Set("Cookie", cookie)
	page, err := do(c, req)
	if err != nil {
		return "", err
	}
	csrf, err := find(csrfRE, page, "CSRF token on the security-info page")
	if err != nil {
		return "", err
	}
	form := url.Values{"csrf": {csrf}, "name": {"bench"}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/.mfa/security/app-passwords", strings.NewReader(form.Encode()))
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if page, err = do(c, req); err != nil {
		return "", err
	}
	pw, err := find(appPasswordRE, page, "app password on its page")
	if err != nil {
		return "", err
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, base+"/bench/page", nil)
	req.SetBasicAuth(user, pw)
	if _, err := do(c, req); err != nil {
		return "", fmt.Errorf("the app password does not open the app: %w", err)
	}
	return "Authorization: " + req.Header.Get("Authorization"), nil
}

func do(c *http.Client, req *http.Request) (string, error) {
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode >= 400 {
		return "", fmt.Errorf("%s %s: %d\n%s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	return string(b), nil
}

func find(re *regexp.Regexp, page, what string) (string, error) {
	m := re.FindStringSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("no %s", what)
	}
	return m[1], nil
}
