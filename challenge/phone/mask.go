package phone

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// bullet replaces each hidden digit.
const bullet = "•"

// MaskedExt separates a masked number from its hidden extension; pages
// show it in the reader's language (ui does).
const MaskedExt = " ext. "

// Masked returns the number for display to someone who should recognise
// it but not learn it: the international format with the country calling
// code and only the last 4 digits shown (the last 2 for numbers of fewer
// than 7 national digits), groups separated by spaces, and the extension,
// if any, hidden: "+81 •• •••• 5678", "+1 ••• ••• 0000 ext. •••".
func (n Number) Masked() string {
	prefix, national := n.E164, ""
	if pn, err := phonenumbers.Parse(n.E164, ""); err == nil {
		prefix = "+" + strconv.Itoa(int(pn.GetCountryCode()))
		national = strings.TrimPrefix(phonenumbers.Format(pn, phonenumbers.INTERNATIONAL), prefix)
	} else {
		// Not a number this package made: hide all but the last digits.
		prefix, national = "", n.E164
	}
	groups := strings.FieldsFunc(national, func(r rune) bool { return r < '0' || r > '9' })
	total := 0
	for _, g := range groups {
		total += len(g)
	}
	shown := 4
	if total < 7 {
		shown = 2
	}
	if total <= shown {
		shown = 0
	}
	hidden := total - shown
	for i, g := range groups {
		h := min(hidden, len(g))
		groups[i] = strings.Repeat(bullet, h) + g[h:]
		hidden -= h
	}
	masked := strings.Join(groups, " ")
	if prefix != "" {
		masked = strings.TrimSpace(prefix + " " + masked)
	}
	if n.Ext != "" {
		masked += MaskedExt + strings.Repeat(bullet, utf8.RuneCountInString(n.Ext))
	}
	return masked
}
