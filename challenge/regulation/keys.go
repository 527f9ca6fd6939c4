package regulation

import "time"

// The keys Regulation writes, one family per kind, each named by a prefix
// that no other family's starts with. families is the one list of them:
// Unlock walks it, and the tests check that every key written is of a
// family listed there (keys_test.go), so that a new kind of lockout cannot
// be left out of Unlock by forgetting a hand-written list.
//
// The keys share the KV and the limiter with the rest of the engine; no
// other part of it writes keys with these prefixes.
const (
	prefixBlock           = "block:"             // a fraud block of a user
	prefixLock            = "lock:"              // an account-wide lockout, holding when it ends
	prefixCodeFail        = "codefail:"          // the run of wrong second-factor codes
	prefixCodeRate        = "code-user:"         // the rate of second-factor checks
	prefixPushRate        = "push-user:"         // the rate of app notifications
	prefixGeneration      = "pwgen:"             // the generation of a user's keys (see generation)
	prefixPasswordFail    = "pwfail:"            // GCRA of wrong passwords of one side
	prefixPasswordLock    = "pwlock:"            // a lock of one side, holding when it ends
	prefixPasswordRate    = "pwrate:"            // the per-user rate of one side
	prefixKnownAddress    = "pwknown:"           // an address the user signed in from
	prefixLoginIP         = "login-ip:"          // the rate of passwords from an address
	prefixLoginIPFamiliar = "login-ip-familiar:" // the same, of a familiar browser there
	prefixAppPasswordIP   = "apppw-fail-ip:"     // app passwords from an address
	prefixAppPasswordUser = "apppw-fail-user:"   // app passwords of a user from unfamiliar addresses
	prefixAppPasswordOwn  = "apppw-fail-known:"  // app passwords of a user from a familiar address
	prefixAppPasswordAddr = "apppw-known:"       // an address a right app password came from
	prefixSendUser        = "send-user:"         // texts and calls for a user
	prefixSendNumber      = "send-number:"       // texts and calls to a number
	prefixSendIP          = "send-ip:"           // texts and calls asked for from an address
	prefixSendWait        = "send-wait:"         // the wait before the next text, or the next call, to a user
	prefixSendDaily       = "send-daily:"        // the gateway's texts and calls of a UTC day
)

// storeKind is where the keys of a family live.
type storeKind int

const (
	inKV      storeKind = iota + 1 // the store.KV
	inLimiter                      // the limit.Limiter
)

// lift is what Unlock does to the keys of a family for a user.
type lift int

const (
	// kept: Unlock leaves the keys alone, since they are not a lockout of
	// the user: what makes a source familiar, a count of an address, a
	// number or the whole gateway (shared with other users), a wait of
	// seconds.
	kept lift = iota + 1
	// deleted: Unlock deletes the user's key, prefix + user, from the KV.
	deleted
	// reset: Unlock resets the user's count, prefix + user, in the limiter.
	reset
	// advanced: the key is the user's generation, prefix + user; Unlock
	// advances it, and so lifts every family held in a generation.
	advanced
	// inGeneration: the key holds the user's generation, so that once
	// Unlock advances it no key of the old generation is read again (they
	// expire by themselves). Addresses and browsers are listed nowhere, so
	// their keys could not be found one by one.
	inGeneration
)

// family is one kind of key Regulation writes.
type family struct {
	// prefix starts every key of the family, and no key of another.
	prefix string
	// layout is what follows the prefix, as the code here builds it.
	layout string
	// store is where the keys live.
	store storeKind
	// lift is what Unlock does to them.
	lift lift
	// limits says what the keys count or stop.
	limits string
}

// families lists every kind of key Regulation writes: the one table that
// Unlock walks.
func families() []family {
	return []family{
		{prefixBlock, "<user>", inKV, deleted, "every sign-in, text, call and prompt of a user who reported a sign-in they did not start"},
		{prefixLock, "<user>", inKV, deleted, "every sign-in of a user after MaxCodeFailures wrong codes in a run"},
		{prefixCodeFail, "<user>", inKV, deleted, "counts the run of wrong second-factor codes (MaxCodeFailures)"},
		{prefixCodeRate, "<user>", inLimiter, reset, "second-factor checks of a user (CodePerUser)"},
		{prefixPushRate, "<user>", inLimiter, reset, "app notifications to a user (PushPerUser)"},
		{prefixAppPasswordUser, "<user>", inLimiter, reset, "app passwords of a user from unfamiliar addresses (AppPasswordPerUser)"},
		{prefixSendUser, "<user>", inLimiter, reset, "texts and calls for a user (Send.PerUser)"},
		{prefixGeneration, "<user>", inKV, advanced, "none itself: advancing it lifts every key held in a generation"},
		{prefixPasswordFail, "<generation>:<user>|<side>", inLimiter, inGeneration, "wrong passwords of one side (MaxFailures in FindTime; MaxUnfamiliarFailures a day, side \"unfamiliar\" or \"day:browser:<id>\")"},
		{prefixPasswordLock, "<generation>:<user>|<side or marker>", inKV, inGeneration, "passwords from a side; markers \"addresses\" and \"browsers\" say one is locked, for SourceLocks"},
		{prefixPasswordRate, "<generation>:<user>|<side>", inLimiter, inGeneration, "passwords of a user from a side (LoginPerUser)"},
		{prefixAppPasswordOwn, "<generation>:<address>|<user>", inLimiter, inGeneration, "app passwords of a user from a familiar address (AppPasswordPerUser)"},
		{prefixKnownAddress, "<user>|ip:<address>", inKV, kept, "none: makes the address familiar for the user's passwords (KnownAddressFor)"},
		{prefixAppPasswordAddr, "<address>|<user>", inKV, kept, "none: makes the address familiar for the user's app passwords (KnownAddressFor)"},
		{prefixLoginIP, "<address>", inLimiter, kept, "passwords from an address, for every user (LoginPerIP)"},
		{prefixLoginIPFamiliar, "<address>|<browser id>", inLimiter, kept, "passwords from a familiar browser at an address, for every user (LoginPerIP)"},
		{prefixAppPasswordIP, "<address>", inLimiter, kept, "app passwords from an address, for every user (AppPasswordPerIP)"},
		{prefixSendNumber, "<purpose>:<number key>", inLimiter, kept, "texts and calls to a number, whoever asks (Send.PerNumber)"},
		{prefixSendIP, "<address>", inLimiter, kept, "texts and calls asked for from an address (Send.PerIP)"},
		{prefixSendWait, "<channel: text or call>:<user>", inKV, kept, "the next text, or the next call, to a user, for Send.Resend (seconds)"},
		{prefixSendDaily, "<UTC day, 2006-01-02>", inKV, kept, "texts and calls of the whole gateway in a UTC day (Send.Daily)"},
	}
}

// KeyPrefixes lists the prefix of every key Regulation writes in the KV
// and the limiter, for stores that treat keys by kind (the embedded store
// keeps all of them across a restart: see challenge.PersistKey).
func KeyPrefixes() []string {
	fs := families()
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.prefix
	}
	return out
}

// userKey is the key of a family keyed by the user alone.
func userKey(prefix, user string) string { return prefix + user }

// genMemory is how long the generation of a user's keys is kept after an
// Unlock: longer than any key of a generation lives (unfamiliarWindow).
const genMemory = 60 * 24 * time.Hour
