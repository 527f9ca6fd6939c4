package portal

import (
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/caddy-mfa/caddy-mfa/ui"
)

// What a portal request may make the gateway read. Go's form parsing reads
// a multipart body of any method with no size limit when FormValue is
// called, keeping 32 MB in memory and writing the rest to temporary files;
// and since Caddy hands handlers a copy of the request, Go's end-of-request
// cleanup never removes them. So before any portal handler runs, the body
// is bounded here, once, for every page.

// noMultipart is set as every portal request's MultipartForm, so that no
// later FormValue, PostFormValue or ParseMultipartForm parses a multipart
// body: Go parses one only while MultipartForm is nil.
func noMultipart() *multipart.Form {
	return &multipart.Form{Value: map[string][]string{}, File: map[string][]*multipart.FileHeader{}}
}

// boundBody prepares r's body and form before any portal handler sees it:
// a request other than a POST has no body (it is never read: the server
// closes a connection whose unread body is large), and its form is its
// query alone; a POST body is capped at maxFormBytes, and a multipart one
// is refused unread with a 415 page. It reports false if it has answered.
//
// A body left unread makes Go's server read up to 256 KiB of it before it
// answers (to keep the connection), and send "100 Continue" to a client
// that asked for it. So the answer to a request other than a POST that
// comes with a body closes the connection instead ("Connection: close"):
// nothing of that body is waited for or read.
func (p *Portal) boundBody(w http.ResponseWriter, r *http.Request) bool {
	r.MultipartForm = noMultipart()
	if r.Method != http.MethodPost {
		if hasBody(r) {
			w.Header().Set("Connection", "close")
		}
		r.Body, r.ContentLength = http.NoBody, 0
		r.Form, r.PostForm = r.URL.Query(), url.Values{}
		return true
	}
	if isMultipart(r.Header.Get("Content-Type")) {
		// Go's server reads at most 256 KiB of it before answering, so
		// that a browser still writing its upload reads this page.
		p.pages.Message(w, r, http.StatusUnsupportedMediaType, ui.TitleBadRequest, ui.MsgUnsupportedForm)
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	return true
}

// hasBody reports whether r announces a body: a length, or chunks.
func hasBody(r *http.Request) bool {
	return r.ContentLength != 0 || len(r.TransferEncoding) > 0
}

// isMultipart reports a content type of the multipart family in any case,
// whether or not it parses ("multipart/form-data; boundary=" and one with
// two boundaries do not): such a body is never read.
func isMultipart(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(mt)), "multipart/")
}

// dropFormFiles removes any temporary files a form parse of r made: none,
// while boundBody's guard holds; this keeps it so if a handler ever parses
// a copy of the request in another way.
func dropFormFiles(r *http.Request) {
	if f := r.MultipartForm; f != nil {
		_ = f.RemoveAll()
	}
}

// value is a form value of the request: from the query of a GET or HEAD,
// from the posted form of a POST (never both, and never a multipart body).
func (q *request) value(key string) string {
	if q.r.Method == http.MethodPost {
		return q.r.PostForm.Get(key)
	}
	return q.r.URL.Query().Get(key)
}
