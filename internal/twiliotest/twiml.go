package twiliotest

import (
	"encoding/xml"
	"net/http"
	"strings"
	"unicode/utf8"
)

// maxTwiml is the most characters the Twiml parameter may hold.
const maxTwiml = 4000

// twimlVerb is one element of a TwiML document, with its attributes and
// children.
type twimlVerb struct {
	XMLName  xml.Name
	Attrs    []xml.Attr  `xml:",any,attr"`
	Text     string      `xml:",chardata"`
	Children []twimlVerb `xml:",any"`
}

// attr returns the attribute name of v.
func (v twimlVerb) attr(name string) string {
	for _, a := range v.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// checkTwiml refuses inline TwiML Twilio would not run: too long, not XML,
// or not a <Response>.
func checkTwiml(doc string) *APIError {
	if n := utf8.RuneCountInString(doc); n > maxTwiml {
		return errorf(http.StatusBadRequest, 32018, "Twiml size %d exceeded maximum allowed value of %d characters", n, maxTwiml)
	}
	var root twimlVerb
	if err := xml.Unmarshal([]byte(doc), &root); err != nil {
		return errorf(http.StatusBadRequest, 12100, "Document parse failure: %v", err)
	}
	if root.XMLName.Local != "Response" {
		return errorf(http.StatusBadRequest, 12100, "Document parse failure: root element is <%s>, not <Response>", root.XMLName.Local)
	}
	return nil
}

// readTwiml fills in what a call's TwiML says: the <Gather> action and the
// first <Say>, looked for inside the <Gather> first.
func readTwiml(doc string, rec *CallRecord) {
	var root twimlVerb
	if xml.Unmarshal([]byte(doc), &root) != nil {
		return
	}
	var gather, say *twimlVerb
	for i := range root.Children {
		v := &root.Children[i]
		switch v.XMLName.Local {
		case "Gather":
			if gather == nil {
				gather = v
			}
		case "Say":
			if say == nil {
				say = v
			}
		}
	}
	if gather != nil {
		rec.GatherURL = gather.attr("action")
		for i := range gather.Children {
			if gather.Children[i].XMLName.Local == "Say" {
				say = &gather.Children[i]
				break
			}
		}
	}
	if say != nil {
		rec.Say = strings.TrimSpace(say.Text)
		rec.Language = say.attr("language")
	}
}
