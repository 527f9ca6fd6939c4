package providers

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// load loads module id from raw JSON as the app does: decoded strictly,
// provisioned, validated.
func load(t *testing.T, id, raw string) (caddy.Module, error) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	m, err := ctx.LoadModuleByID(id, []byte(raw))
	if err != nil {
		return nil, err
	}
	return m.(caddy.Module), nil
}

// mustLoad is load that must succeed.
func mustLoad[T caddy.Module](t *testing.T, id, raw string) T {
	t.Helper()
	m, err := load(t, id, raw)
	if err != nil {
		t.Fatalf("loading %s %s: %v", id, raw, err)
	}
	return m.(T)
}

// caddyfileCase is the Caddyfile of a module, from its name on, and the
// module it must give.
type caddyfileCase[T any] struct {
	name  string
	input string
	want  T
}

// expectCaddyfile checks that each input unmarshals into its want.
func expectCaddyfile[T any, P interface {
	*T
	caddyfile.Unmarshaler
}](t *testing.T, tests []caddyfileCase[T]) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got T
			if err := P(&got).UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input)); err != nil {
				t.Fatalf("UnmarshalCaddyfile: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// errorCase is an input (Caddyfile from the module's name on, or JSON)
// that must be refused with an error containing each of want.
type errorCase struct {
	name  string
	input string
	want  []string
}

// expectCaddyfileErrors checks that a new module from newModule refuses
// each input.
func expectCaddyfileErrors(t *testing.T, newModule func() caddyfile.Unmarshaler, tests []errorCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, newModule().UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input)), tc.want)
		})
	}
}

// expectLoadErrors checks that module id refuses each JSON input.
func expectLoadErrors(t *testing.T, id string, tests []errorCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, id, tc.input)
			expectError(t, err, tc.want)
		})
	}
}

func expectError(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	for _, frag := range want {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("error %q does not contain %q", err, frag)
		}
	}
}
