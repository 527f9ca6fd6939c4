package caddymodule

import (
	"mime"
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
func (p *portal) boundBody(w http.ResponseWriter, r *http.Request) bool {
	r.MultipartForm = noMultipart()
	if r.Method != http.MethodPost {
		r.Body, r.ContentLength = http.NoBody, 0
		r.Form, r.PostForm = r.URL.Query(), url.Values{}
		return true
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "multipart/") {
		p.app.renderMessage(w, r, http.StatusUnsupportedMediaType, ui.TitleBadRequest, ui.MsgUnsupportedForm)
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	return true
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
