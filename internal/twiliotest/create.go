package twiliotest

import (
	"net/http"
	"net/url"
)

// createMessage records an accepted message and answers 201 Created.
func (f *Fake) createMessage(w http.ResponseWriter, form url.Values) {
	m := Message{
		SID:                 newSID("SM"),
		To:                  form.Get("To"),
		From:                form.Get("From"),
		MessagingServiceSID: form.Get("MessagingServiceSid"),
		Body:                form.Get("Body"),
	}
	f.mu.Lock()
	f.messages = append(f.messages, m)
	f.mu.Unlock()

	answer := f.created("Messages", m.SID)
	answer["to"] = m.To
	answer["from"] = nilIfEmpty(m.From)
	answer["messaging_service_sid"] = nilIfEmpty(m.MessagingServiceSID)
	answer["body"] = m.Body
	answer["num_segments"] = "1"
	writeJSON(w, http.StatusCreated, answer)
}

// createCall records an accepted call and answers 201 Created.
func (f *Fake) createCall(w http.ResponseWriter, form url.Values) {
	c := CallRecord{
		SID:        newSID("CA"),
		To:         form.Get("To"),
		From:       form.Get("From"),
		SendDigits: form.Get("SendDigits"),
		Twiml:      form.Get("Twiml"),
		StatusURL:  form.Get("StatusCallback"),
	}
	readTwiml(c.Twiml, &c)
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()

	answer := f.created("Calls", c.SID)
	answer["to"] = c.To
	answer["from"] = c.From
	writeJSON(w, http.StatusCreated, answer)
}

// nilIfEmpty is JSON null for an empty string, as Twilio answers.
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
