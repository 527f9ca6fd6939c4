package users

import "sort"

// Why a user's access ended, in Gone.Reason.
const (
	// GoneRemoved: the user is no longer in the users file.
	GoneRemoved = "removed"
	// GoneDisabled: the user is marked disabled: true.
	GoneDisabled = "disabled"
)

// Gone is a user who could sign in before a reload of the users file and
// cannot after it: their sessions, remembered devices and app passwords
// must end for good, so that putting them back revives none of those.
type Gone struct {
	// Name is the user name.
	Name string
	// Reason is GoneRemoved or GoneDisabled.
	Reason string
}

// gone lists, in name order, the users enabled in before who are missing
// or disabled in after.
func gone(before, after map[string]*User) []Gone {
	var out []Gone
	for name, u := range before {
		if u.Disabled {
			continue
		}
		switch v := after[name]; {
		case v == nil:
			out = append(out, Gone{Name: name, Reason: GoneRemoved})
		case v.Disabled:
			out = append(out, Gone{Name: name, Reason: GoneDisabled})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Known reports whether the users file lists name, enabled or disabled.
func (db *DB) Known(name string) bool {
	_, ok := db.t.Load().users[name]
	return ok
}
