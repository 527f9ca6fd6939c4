package caddymodule

import (
	"fmt"
	"net/url"
)

// checkHelpURL checks help_url: a link users may follow from every page,
// so only schemes a browser opens as a page, a mail or a call.
func checkHelpURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	ok := err == nil
	if ok {
		switch u.Scheme {
		case "https", "http":
			ok = u.Host != ""
		case "mailto", "tel":
			ok = u.Opaque != ""
		default:
			ok = false
		}
	}
	if !ok {
		return "", fmt.Errorf("help_url %q must be an http(s), mailto: or tel: link, such as https://help.example.com or mailto:it@example.com", raw)
	}
	return u.String(), nil
}
