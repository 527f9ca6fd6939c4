package push

import "strings"

// maxUserAgent is how much of a User-Agent header Browser looks at.
const maxUserAgent = 512

// BrowserOn joins a browser's name and its system's in what Browser
// returns; pages and messages show it in the reader's language (ui does).
const BrowserOn = " on "

// Browser describes a User-Agent header for people, such as "Edge on
// Windows", "Chrome on Android" or "Safari on iPhone". The names are proper
// names, the same in every language, joined by BrowserOn, which is kept
// with the account as it is and translated where it is shown;
// when only one part is known Browser returns it alone ("Firefox",
// "Windows"), and for a header it cannot read at all it returns "", so
// that the caller can say "unknown browser" in the user's language.
func Browser(userAgent string) string {
	if len(userAgent) > maxUserAgent {
		userAgent = userAgent[:maxUserAgent]
	}
	b, s := browserName(userAgent), systemName(userAgent)
	switch {
	case b != "" && s != "":
		return b + BrowserOn + s
	case b != "":
		return b
	default:
		return s
	}
}

// browserName names the browser of ua, or "". The order matters: Edge,
// Opera, Samsung Internet and Vivaldi say "Chrome" too, and all of those
// and Firefox on iOS say "Safari".
func browserName(ua string) string {
	switch {
	case contains(ua, "Edg/", "EdgA/", "EdgiOS/", "Edge/"):
		return "Edge"
	case contains(ua, "OPR/", "OPT/", "OPiOS/", "Opera"):
		return "Opera"
	case contains(ua, "SamsungBrowser/"):
		return "Samsung Internet"
	case contains(ua, "Vivaldi/"):
		return "Vivaldi"
	case contains(ua, "Firefox/", "FxiOS/"):
		return "Firefox"
	case contains(ua, "Chromium/"):
		return "Chromium"
	case contains(ua, "Chrome/", "CriOS/"):
		return "Chrome"
	case contains(ua, "Trident/", "MSIE "):
		return "Internet Explorer"
	case contains(ua, "Safari/"):
		return "Safari"
	}
	return ""
}

// systemName names the operating system of ua, or "". The order matters:
// iPhone and iPad headers say "Mac OS X", and Android ones "Linux".
func systemName(ua string) string {
	switch {
	case contains(ua, "iPhone"):
		return "iPhone"
	case contains(ua, "iPad"):
		return "iPad"
	case contains(ua, "Android"):
		return "Android"
	case contains(ua, "Windows"):
		return "Windows"
	case contains(ua, "CrOS"):
		return "ChromeOS"
	case contains(ua, "Macintosh", "Mac OS X"):
		return "macOS"
	case contains(ua, "Linux"):
		return "Linux"
	}
	return ""
}

// contains reports whether s contains any of subs.
func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
