package session

import (
	"reflect"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	for _, d := range []Data{
		{},
		{User: "alice", Level: TwoFactor, Created: 1795620000, LastSeen: 1795620100, SecondFactorAt: 1795620050, Return: "/wiki?x=1"},
		{User: "ユーザー", Level: OneFactor, Created: -1, PendingTOTP: []byte{1, 2, 3, 0, 255}},
	} {
		b, err := d.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Data
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("%+v: %v", d, err)
		}
		if !reflect.DeepEqual(got, d) {
			t.Fatalf("round trip: got %+v, want %+v", got, d)
		}
	}
}

// A malformed or foreign record is refused, never half-read: the session is
// then simply absent.
func TestCodecRefusesMalformed(t *testing.T) {
	good, _ := (&Data{User: "alice", Level: TwoFactor, Created: 5, LastSeen: 6, Return: "/"}).MarshalBinary()
	cases := map[string][]byte{
		"empty":         nil,
		"json":          []byte(`{"u":"alice","l":2}`),
		"wrong version": append([]byte{9}, good[1:]...),
		"bad level":     append([]byte{good[0], 7}, good[2:]...),
		"truncated":     good[:len(good)-1],
		"trailing":      append(append([]byte(nil), good...), 0),
		"huge length":   append(append([]byte(nil), good[:len(good)-5]...), 0xff, 0xff, 0xff, 0xff, 0x0f),
	}
	for name, b := range cases {
		var d Data
		if err := d.UnmarshalBinary(b); err == nil {
			t.Errorf("%s: decoded to %+v", name, d)
		}
	}
	// Every truncation of a good record fails cleanly.
	for i := range len(good) {
		var d Data
		if err := d.UnmarshalBinary(good[:i]); err == nil {
			t.Errorf("truncated to %d bytes: decoded", i)
		}
	}
}

func FuzzCodec(f *testing.F) {
	good, _ := (&Data{User: "alice", Level: TwoFactor, Created: 5, Return: "/x", PendingTOTP: []byte("p")}).MarshalBinary()
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Data
		if d.UnmarshalBinary(b) != nil {
			return
		}
		again, _ := d.MarshalBinary()
		var d2 Data
		if err := d2.UnmarshalBinary(again); err != nil || !reflect.DeepEqual(d, d2) {
			t.Fatalf("re-encoding %+v failed: %v", d, err)
		}
	})
}
