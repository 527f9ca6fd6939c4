package ui

import (
	"html/template"
	"net/url"
	"strings"
)

// Message ids of the recovery codes' file and its buttons.
const (
	// codesFileTitle heads the downloaded file: whose codes, for where.
	codesFileTitle = "recovery.file_title"
	// codesFileNote says how to use and keep them.
	codesFileNote = "recovery.file_note"
)

// CodesFileName is the name the browser saves the recovery codes under.
const CodesFileName = "recovery-codes.txt"

// CodesFile is the recovery codes of the page as a text file, in the
// page's language, for the Download link: a data: URL, so that the codes
// leave the server only in this one view (no other URL serves them) and
// the link works without JavaScript. Lines end with CRLF, which every
// editor opens.
func (p *Page) CodesFile() template.URL {
	var b strings.Builder
	b.WriteString(p.T(codesFileTitle, map[string]string{"Org": p.Org, "Account": p.CodesAccount}))
	b.WriteString("\r\n")
	b.WriteString(p.T(codesFileNote))
	b.WriteString("\r\n\r\n")
	for _, c := range p.Codes {
		b.WriteString(c)
		b.WriteString("\r\n")
	}
	// PathEscape leaves nothing that ends the attribute or the URL's data
	// ('"', '#', '%', spaces and newlines are escaped).
	return template.URL("data:text/plain;charset=utf-8," + url.PathEscape(b.String()))
}

// CodesFileName is CodesFileName, for the template.
func (p *Page) CodesFileName() string { return CodesFileName }
