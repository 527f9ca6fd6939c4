package ntfytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"regexp"
	"time"
)

const (
	// maxMessage is ntfy's default limit on a message, in bytes; longer
	// ones would become attachments.
	maxMessage = 4096
	// maxActions is how many action buttons a message may have.
	maxActions = 3
)

// topicPattern is the form of an ntfy topic.
var topicPattern = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// publish is a message published as JSON; members beyond these are not in
// ntfy's documentation, and refused.
type publish struct {
	Topic    string   `json:"topic"`
	Message  string   `json:"message"`
	Title    string   `json:"title"`
	Tags     []string `json:"tags"`
	Priority *int     `json:"priority"`
	Actions  []action `json:"actions"`
	Click    string   `json:"click"`
	Attach   string   `json:"attach"`
	Markdown bool     `json:"markdown"`
	Icon     string   `json:"icon"`
	Filename string   `json:"filename"`
	Delay    string   `json:"delay"`
	Email    string   `json:"email"`
	Call     string   `json:"call"`
}

// action is an action button as published.
type action struct {
	Action  string            `json:"action"`
	Label   string            `json:"label"`
	URL     string            `json:"url,omitempty"`
	Clear   bool              `json:"clear,omitempty"`
	Method  string            `json:"method,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	Intent  string            `json:"intent,omitempty"`
	Extras  map[string]string `json:"extras,omitempty"`
}

// check checks a request's Content-Type and body, and returns the message
// published or what is wrong with it.
func check(contentType string, raw []byte) (publish, string) {
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		return publish{}, fmt.Sprintf("Content-Type %q, want application/json", contentType)
	}
	var p publish
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return publish{}, fmt.Sprintf("body %s: %v", raw, err)
	}
	if dec.More() {
		return publish{}, fmt.Sprintf("body %s has data after the object", raw)
	}
	switch {
	case !topicPattern.MatchString(p.Topic):
		return publish{}, fmt.Sprintf("topic %q is not 1 to 64 of [-_A-Za-z0-9]", p.Topic)
	case p.Priority != nil && (*p.Priority < 1 || *p.Priority > 5):
		return publish{}, fmt.Sprintf("priority %d is not 1 to 5", *p.Priority)
	case len(p.Message) > maxMessage:
		return publish{}, fmt.Sprintf("message is %d bytes, more than %d", len(p.Message), maxMessage)
	case len(p.Actions) > maxActions:
		return publish{}, fmt.Sprintf("%d actions, more than %d", len(p.Actions), maxActions)
	}
	for name, u := range map[string]string{"click": p.Click, "attach": p.Attach, "icon": p.Icon} {
		if u != "" && !absoluteHTTP(u) {
			return publish{}, fmt.Sprintf("%s %q is not an absolute http(s) URL", name, u)
		}
	}
	for i, a := range p.Actions {
		switch {
		case a.Action != "view" && a.Action != "broadcast" && a.Action != "http":
			return publish{}, fmt.Sprintf("action %d is %q, want view, broadcast or http", i, a.Action)
		case a.Label == "":
			return publish{}, fmt.Sprintf("action %d has no label", i)
		case a.Action != "broadcast" && !absoluteHTTP(a.URL):
			return publish{}, fmt.Sprintf("action %d's url %q is not an absolute http(s) URL", i, a.URL)
		}
	}
	return p, ""
}

// message is the Message p makes, given id at t.
func (p publish) message(id string, t time.Time) Message {
	m := Message{
		ID: id, Time: t, Topic: p.Topic, Title: p.Title, Message: p.Message,
		Tags: p.Tags, Click: p.Click,
	}
	if p.Priority != nil {
		m.Priority = *p.Priority
	}
	for _, a := range p.Actions {
		m.Actions = append(m.Actions, Action{Action: a.Action, Label: a.Label, URL: a.URL, Clear: a.Clear})
	}
	return m
}

// absoluteHTTP reports whether s is an absolute http or https URL.
func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
