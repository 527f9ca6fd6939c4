package ui

// Message ids of the gate on password checks: as many run at once as
// there are cores, and an attempt beyond its short queue is refused.
const (
	// TitleBusy heads the page of a sign-in refused because too many
	// password checks are running (503).
	TitleBusy = "title.busy"
	// MsgBusy asks to try again in a few seconds.
	MsgBusy = "message.busy"
)
