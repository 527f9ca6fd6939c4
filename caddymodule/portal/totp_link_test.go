package portal

import (
	"context"
	"html"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/challenge/session"
)

// otpauthHref is the otpauth:// link of a registration page.
var otpauthHref = regexp.MustCompile(`href="(otpauth://[^"]*)"`)

// TestTOTPPageLinkIsTheQRCode: the registration page links to the very
// string its QR code holds, for an organisation name with &, :, #, spaces
// and Japanese. (No QR decoder is at hand; the PNG of the page's link,
// drawn as the portal draws it, must be the PNG served.)
func TestTOTPPageLinkIsTheQRCode(t *testing.T) {
	p := testPortal(t)
	p.engine.TOTP.Issuer = "Smith & Sons: 日本 #1"
	cookie, _ := testSession(t, p, "alice", session.TwoFactor, 60)
	get := func(path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, p.prefix+path, nil)
		r.AddCookie(cookie)
		r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
		w := httptest.NewRecorder()
		if err := p.Serve(w, r); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return w
	}
	page := get("setup/totp")
	m := otpauthHref.FindStringSubmatch(page.Body.String())
	if page.Code != http.StatusOK || m == nil {
		t.Fatalf("registration page %d without an otpauth link:\n%s", page.Code, page.Body)
	}
	link := html.UnescapeString(m[1])
	got := get("setup/totp/qr.png")
	if got.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("QR code served as %q", got.Header().Get("Content-Type"))
	}
	img, err := png.Decode(got.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := drawQR(t, link)
	if img.Bounds() != want.Bounds() {
		t.Fatalf("QR code of %v, want %v", img.Bounds(), want.Bounds())
	}
	for y := range 200 {
		for x := range 200 {
			if dark(img.At(x, y)) != dark(want.At(x, y)) {
				t.Fatalf("the QR code does not hold the page's link %q (pixel %d,%d)", link, x, y)
			}
		}
	}
}

// dark reports whether c is a QR code's dark module.
func dark(c color.Color) bool {
	y := color.Gray16Model.Convert(c).(color.Gray16).Y
	return y < 0x8000
}

// drawQR is a 200×200 QR code of content, as the barcode library scales
// one.
func drawQR(t *testing.T, content string) image.Image {
	t.Helper()
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	img, err := barcode.Scale(code, 200, 200)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
