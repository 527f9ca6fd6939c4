package session

import (
	"encoding/binary"
	"errors"
)

// codecVersion starts every encoded session, so the format can change.
const codecVersion byte = 1

// errCodec is returned for a stored session that does not decode; the
// session is then treated as absent.
var errCodec = errors.New("malformed session record")

// MarshalBinary encodes the session compactly: a version byte, the level,
// the times as varints, and the strings length-prefixed. Every signed-in
// request decodes one, so this is an order of magnitude cheaper than JSON.
//
// The last field once held the seed of an authenticator app being
// registered (now kept in the store under the session's tag): it is
// written empty, so that a gateway of an earlier release still decodes
// what this one stores, and skipped when read.
func (d *Data) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 32+len(d.User)+len(d.Return))
	b = append(b, codecVersion, byte(d.Level))
	b = binary.AppendVarint(b, d.Created)
	b = binary.AppendVarint(b, d.LastSeen)
	b = binary.AppendVarint(b, d.SecondFactorAt)
	b = appendBytes(b, []byte(d.User))
	b = appendBytes(b, []byte(d.Return))
	b = appendBytes(b, nil) // formerly the pending seed
	return b, nil
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// UnmarshalBinary decodes what MarshalBinary made.
func (d *Data) UnmarshalBinary(b []byte) error {
	if len(b) < 2 || b[0] != codecVersion {
		return errCodec
	}
	r := reader{b: b[2:]}
	*d = Data{Level: Level(b[1])}
	d.Created = r.varint()
	d.LastSeen = r.varint()
	d.SecondFactorAt = r.varint()
	d.User = string(r.bytes())
	d.Return = string(r.bytes())
	_ = r.bytes() // formerly the pending seed: not used any more
	if r.bad || len(r.b) != 0 || d.Level > TwoFactor {
		return errCodec
	}
	return nil
}

// reader walks an encoded session, remembering any malformation.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	l, n := binary.Uvarint(r.b)
	if n <= 0 || uint64(len(r.b)-n) < l {
		r.bad = true
		return nil
	}
	out := r.b[n : n+int(l)]
	r.b = r.b[n+int(l):]
	return out
}
