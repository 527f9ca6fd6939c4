package smtptest

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
)

// Parsed is a received message read as a mail reader shows it.
type Parsed struct {
	Header mail.Header
	// Subject, From and To are decoded (RFC 2047).
	Subject, From, To string
	MessageID         string
	// Text and HTML are the parts of a multipart/alternative message,
	// transfer encoding undone.
	Text, HTML string
}

// Parse reads m: headers decoded, and the text and HTML parts, both of
// which must be there.
func (m Message) Parse() (Parsed, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return Parsed{}, fmt.Errorf("reading message: %w", err)
	}
	dec := new(mime.WordDecoder)
	p := Parsed{Header: msg.Header, MessageID: msg.Header.Get("Message-ID")}
	for _, h := range []struct {
		name string
		dst  *string
	}{{"Subject", &p.Subject}, {"From", &p.From}, {"To", &p.To}} {
		if *h.dst, err = dec.DecodeHeader(msg.Header.Get(h.name)); err != nil {
			return Parsed{}, fmt.Errorf("header %s: %w", h.name, err)
		}
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		return Parsed{}, fmt.Errorf("content type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Parsed{}, fmt.Errorf("reading parts: %w", err)
		}
		b, err := io.ReadAll(part) // the reader undoes quoted-printable
		if err != nil {
			return Parsed{}, fmt.Errorf("reading a part: %w", err)
		}
		switch ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct {
		case "text/plain":
			p.Text = string(b)
		case "text/html":
			p.HTML = string(b)
		}
	}
	if p.Text == "" || p.HTML == "" {
		return Parsed{}, fmt.Errorf("want a text and an HTML part")
	}
	return p, nil
}
