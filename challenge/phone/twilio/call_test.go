package twilio

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

const callAnswer = `{"sid":"CA0123456789abcdef0123456789abcdef","status":"queued"}`

// testCall says text that needs escaping, to an office extension.
func testCall() phone.Call {
	return phone.Call{
		To:        phone.Number{E164: "+81312345678", Ext: "123", CountryCode: 81, Region: "JP"},
		Say:       `Sign-in to "Wiki" <example> & more: press 0 then #.`,
		Language:  "en-US",
		GatherURL: "https://mfa.example.com/mfa/phone/gather?c=abc&d=1",
		StatusURL: "https://mfa.example.com/mfa/phone/status?c=abc",
	}
}

// twimlDoc is TwiML parsed back, keeping every attribute as sent.
type twimlDoc struct {
	XMLName xml.Name `xml:"Response"`
	Gather  []struct {
		Attrs []xml.Attr `xml:",any,attr"`
		Say   []struct {
			Attrs []xml.Attr `xml:",any,attr"`
			Text  string     `xml:",chardata"`
		} `xml:"Say"`
	} `xml:"Gather"`
	Say []struct {
		Attrs []xml.Attr `xml:",any,attr"`
		Text  string     `xml:",chardata"`
	} `xml:"Say"`
	Hangup []struct{} `xml:"Hangup"`
}

// verbs lists the elements directly inside <Response>, in order.
func verbs(t *testing.T, doc []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var names []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("TwiML does not parse: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 1 {
				names = append(names, tok.Name.Local)
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

// attrs turns attributes into a map, failing on a repeated one.
func attrs(t *testing.T, list []xml.Attr) map[string]string {
	t.Helper()
	m := make(map[string]string, len(list))
	for _, a := range list {
		if _, dup := m[a.Name.Local]; dup {
			t.Errorf("attribute %s repeated", a.Name.Local)
		}
		m[a.Name.Local] = a.Value
	}
	return m
}

func TestPlaceCallWithExtension(t *testing.T) {
	c, got := checkedAPI(t, testFrom, "Calls", answerJSON(http.StatusCreated, callAnswer))
	call := testCall()
	sid, err := c.PlaceCall(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if sid != "CA0123456789abcdef0123456789abcdef" {
		t.Errorf("sid %q", sid)
	}
	form := receive(t, got).Form
	twiml := form.Get("Twiml")
	sameForm(t, form, url.Values{
		"To":                   {"+81312345678"},
		"From":                 {testFrom},
		"Twiml":                {twiml},
		"StatusCallback":       {call.StatusURL},
		"StatusCallbackMethod": {"POST"},
		"Timeout":              {"30"},
		"SendDigits":           {"wwww123"},
	})
	if twiml != TwiML(call) {
		t.Errorf("Twiml parameter is not TwiML(call):\n%s", twiml)
	}
	checkGatherTwiML(t, twiml, call)
}

func TestPlaceCallWithoutExtension(t *testing.T) {
	c, got := checkedAPI(t, testFrom, "Calls", answerJSON(http.StatusCreated, callAnswer))
	call := testCall()
	call.To = testNumber
	if _, err := c.PlaceCall(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	form := receive(t, got).Form
	if _, ok := form["SendDigits"]; ok {
		t.Errorf("SendDigits sent without an extension: %q", form.Get("SendDigits"))
	}
	if form.Get("To") != "+819012345678" {
		t.Errorf("To %q", form.Get("To"))
	}
}

// checkGatherTwiML parses twiml back and checks it is the gather of call.
func checkGatherTwiML(t *testing.T, twiml string, call phone.Call) {
	t.Helper()
	if !strings.HasPrefix(twiml, `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration: %s", twiml)
	}
	var doc twimlDoc
	if err := xml.Unmarshal([]byte(twiml), &doc); err != nil {
		t.Fatalf("TwiML does not parse: %v\n%s", err, twiml)
	}
	if v := verbs(t, []byte(twiml)); strings.Join(v, " ") != "Gather Hangup" {
		t.Fatalf("verbs %v, want Gather then Hangup", v)
	}
	g := doc.Gather[0]
	wantAttrs := map[string]string{
		"input":               "dtmf",
		"action":              call.GatherURL,
		"method":              "POST",
		"numDigits":           "2",
		"finishOnKey":         "",
		"timeout":             "5",
		"actionOnEmptyResult": "true",
	}
	gotAttrs := attrs(t, g.Attrs)
	if len(gotAttrs) != len(wantAttrs) {
		t.Errorf("Gather attributes %v, want %v", gotAttrs, wantAttrs)
	}
	for k, v := range wantAttrs {
		if got, ok := gotAttrs[k]; !ok || got != v {
			t.Errorf("Gather %s=%q (present %v), want %q", k, got, ok, v)
		}
	}
	if len(g.Say) != 1 {
		t.Fatalf("Gather has %d Say", len(g.Say))
	}
	if g.Say[0].Text != call.Say {
		t.Errorf("Say %q, want %q", g.Say[0].Text, call.Say)
	}
	if a := attrs(t, g.Say[0].Attrs); len(a) != 1 || a["language"] != call.Language {
		t.Errorf("Say attributes %v, want language=%q", a, call.Language)
	}
}

func TestTwiMLEscapesEverything(t *testing.T) {
	call := testCall()
	call.Language = `ja-JP"><Hangup/>`
	call.Say = "</Say></Gather><Dial>+15551234567</Dial>"
	call.GatherURL = `https://x.example/g?a=1&b="2"<>`
	twiml := TwiML(call)
	if strings.Contains(twiml, "<Dial>") {
		t.Errorf("Say was not escaped: %s", twiml)
	}
	checkGatherTwiML(t, twiml, call)
}

func TestTwiMLWithoutLanguage(t *testing.T) {
	call := testCall()
	call.Language = ""
	if strings.Contains(TwiML(call), "language=") {
		t.Errorf("empty language written: %s", TwiML(call))
	}
}

func TestReply(t *testing.T) {
	reply := Reply("Signed in. Goodbye & thanks", "en-GB")
	var doc twimlDoc
	if err := xml.Unmarshal(reply, &doc); err != nil {
		t.Fatalf("%v\n%s", err, reply)
	}
	if v := verbs(t, reply); strings.Join(v, " ") != "Say Hangup" {
		t.Fatalf("verbs %v, want Say then Hangup", v)
	}
	if doc.Say[0].Text != "Signed in. Goodbye & thanks" || attrs(t, doc.Say[0].Attrs)["language"] != "en-GB" {
		t.Errorf("Say %+v", doc.Say[0])
	}
}

func TestPlaceCallMessagingServiceRefused(t *testing.T) {
	c, got := checkedAPI(t, testMG, "Calls", answerJSON(http.StatusCreated, callAnswer))
	_, err := c.PlaceCall(context.Background(), testCall())
	if err == nil || !strings.Contains(err.Error(), "Messaging Service") {
		t.Fatalf("error %v, want one about the Messaging Service SID", err)
	}
	noRequest(t, got)
}

// TestPlaceCallTextSendersRefused: an alphanumeric sender ID or a short
// code cannot place calls; nothing is sent.
func TestPlaceCallTextSendersRefused(t *testing.T) {
	for from, want := range map[string]string{"ExampleCo": "alphanumeric sender ID", "12345": "short code"} {
		c, got := checkedAPI(t, from, "Calls", answerJSON(http.StatusCreated, callAnswer))
		_, err := c.PlaceCall(context.Background(), testCall())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("from %q: error %v, want one about the %s", from, err, want)
		}
		noRequest(t, got)
	}
}

func TestPlaceCallTwiMLTooLong(t *testing.T) {
	c, got := checkedAPI(t, testFrom, "Calls", answerJSON(http.StatusCreated, callAnswer))
	call := testCall()
	call.Say = strings.Repeat("a", MaxTwiML)
	_, err := c.PlaceCall(context.Background(), call)
	if err == nil || !strings.Contains(err.Error(), "4000") {
		t.Fatalf("error %v, want one about the 4000 character limit", err)
	}
	noRequest(t, got)
}

func TestPlaceCallRejectsBadCalls(t *testing.T) {
	c, got := checkedAPI(t, testFrom, "Calls", answerJSON(http.StatusCreated, callAnswer))
	for name, change := range map[string]func(*phone.Call){
		"number":          func(c *phone.Call) { c.To.E164 = "0312345678" },
		"extension":       func(c *phone.Call) { c.To.Ext = "12#" },
		"say":             func(c *phone.Call) { c.Say = "" },
		"relative gather": func(c *phone.Call) { c.GatherURL = "/mfa/phone/gather" },
		"status scheme":   func(c *phone.Call) { c.StatusURL = "ftp://x.example/s" },
	} {
		call := testCall()
		change(&call)
		if _, err := c.PlaceCall(context.Background(), call); err == nil || errors.Is(err, phone.ErrProvider) {
			t.Errorf("%s: error %v, want one of ours", name, err)
		}
	}
	noRequest(t, got)
}

func TestPlaceCallAnswerWithoutSID(t *testing.T) {
	c, got := checkedAPI(t, testFrom, "Calls", answerJSON(http.StatusCreated, `{"status":"queued"}`))
	_, err := c.PlaceCall(context.Background(), testCall())
	receive(t, got)
	if !errors.Is(err, phone.ErrProvider) || !strings.Contains(err.Error(), "sid") {
		t.Fatalf("error %v, want a provider error about the missing sid", err)
	}
}

func TestPlaceCallTwilioError(t *testing.T) {
	c, got := checkedAPI(t, testFrom, "Calls", answerJSON(http.StatusBadRequest,
		`{"code":21215,"message":"Account not authorized to call +81312345678.","more_info":"https://www.twilio.com/docs/errors/21215","status":400}`))
	_, err := c.PlaceCall(context.Background(), testCall())
	receive(t, got)
	const want = "twilio: placing call: 21215 Account not authorized to call [number]. (HTTP 400)"
	if err == nil || err.Error() != want || !errors.Is(err, phone.ErrProvider) {
		t.Fatalf("error %v, want %q wrapping phone.ErrProvider", err, want)
	}
}
