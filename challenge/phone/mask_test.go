package phone

import (
	"strconv"
	"strings"
	"testing"
)

func TestMasked(t *testing.T) {
	tests := []struct {
		region, raw, ext string
		want             string
	}{
		{"JP", "090-1234-5678", "", "+81 •• •••• 5678"},
		{"US", "650-253-0000", "", "+1 ••• ••• 0000"},
		{"US", "650-253-0000", "123", "+1 ••• ••• 0000 ext. •••"},
		{"GB", "020 7946 0958", "", "+44 •• •••• 0958"},
		{"IT", "06 1234 5678", "", "+39 •• •••• 5678"},
		{"AR", "+54 9 11 1234 5678", "", "+54 • •• •••• 5678"},
		{"NU", "7012", "", "+683 ••12"},           // 4 national digits: only 2 shown
		{"AC", "62889", "", "+247 •••89"},         // 5 national digits
		{"DE", "030 123456", "", "+49 •• ••3456"}, // 8 national digits
	}
	for _, tt := range tests {
		n, err := Parse(tt.region, tt.raw, tt.ext)
		if err != nil {
			t.Fatalf("Parse(%q, %q, %q): %v", tt.region, tt.raw, tt.ext, err)
		}
		if got := n.Masked(); got != tt.want {
			t.Errorf("%s.Masked() = %q, want %q", n, got, tt.want)
		}
	}
}

// TestMaskedRevealsLittle checks, on numbers of many lengths, that the
// masked form shows the country code, then at most the last 4 digits of
// the number (2 of a short one), and nothing of the extension.
func TestMaskedRevealsLittle(t *testing.T) {
	for _, s := range []string{
		"+819012345678", "+81312345678", "+16502530000;ext=1234567890", "+442079460958",
		"+447400123456", "+4930123456", "+390612345678", "+5491112345678", "+80012345678",
		"+6837012", "+24762889", "+33612345678", "+8613812345678", "+61412345678",
	} {
		n, err := ParseStored(s)
		if err != nil {
			t.Fatalf("ParseStored(%q): %v", s, err)
		}
		got := n.Masked()
		prefix := "+" + strconv.Itoa(n.CountryCode) + " "
		rest, ok := strings.CutPrefix(got, prefix)
		if !ok {
			t.Errorf("%q.Masked() = %q, want it to start with %q", s, got, prefix)
			continue
		}
		var digits strings.Builder
		for _, r := range rest {
			if r >= '0' && r <= '9' {
				digits.WriteRune(r)
			}
		}
		national := strings.TrimPrefix(n.E164, "+"+strconv.Itoa(n.CountryCode))
		want := 4
		if len(national) < 7 {
			want = 2
		}
		if digits.Len() != want || !strings.HasSuffix(national, digits.String()) {
			t.Errorf("%q.Masked() = %q shows %q, want the last %d digits of %q", s, got, digits.String(), want, national)
		}
		if n.Ext != "" && !strings.HasSuffix(got, " ext. "+strings.Repeat("•", len(n.Ext))) {
			t.Errorf("%q.Masked() = %q, want the extension hidden", s, got)
		}
	}
}

func TestMaskedZero(t *testing.T) {
	if got := (Number{}).Masked(); got != "" {
		t.Errorf("Number{}.Masked() = %q, want \"\"", got)
	}
}
