package session

import (
	"encoding/binary"
	"reflect"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	for _, d := range []Data{
		{},
		{User: "alice", Level: TwoFactor, Created: 1795620000, LastSeen: 1795620100, SecondFactorAt: 1795620050, Return: "/wiki?x=1"},
		{User: "ユーザー", Level: OneFactor, Created: -1},
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
	good, _ := (&Data{User: "alice", Level: TwoFactor, Created: 5, Return: "/x"}).MarshalBinary()
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

// A session stored before the pending seed left the session (it carried
// one) still decodes, without it; what is stored now decodes on a gateway
// of the release before (the field is written empty).
func TestCodecReadsRecordsWithAPendingSeed(t *testing.T) {
	old := []byte{codecVersion, byte(OneFactor)}
	old = binary.AppendVarint(old, 100)
	old = binary.AppendVarint(old, 101)
	old = binary.AppendVarint(old, 0)
	old = appendBytes(old, []byte("alice"))
	old = appendBytes(old, []byte("/wiki"))
	old = appendBytes(old, []byte{9, 8, 7, 6})
	var d Data
	if err := d.UnmarshalBinary(old); err != nil {
		t.Fatalf("a record with a pending seed: %v", err)
	}
	want := Data{User: "alice", Level: OneFactor, Created: 100, LastSeen: 101, Return: "/wiki"}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("decoded %+v, want %+v", d, want)
	}
	now, _ := want.MarshalBinary()
	layout := append(append([]byte(nil), old[:len(old)-5]...), 0)
	if string(now) != string(layout) {
		t.Fatalf("encoded %v, want the old layout with an empty seed %v", now, layout)
	}
}
