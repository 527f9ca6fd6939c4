package notify

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
)

// mayNotify, the sink's early way out, lets through every event that has
// a notice with some fields: every Event constant of the events package,
// with the fields that turn each into a notice.
func TestMayNotifyCoversEveryNotice(t *testing.T) {
	files, err := filepath.Glob("../events/*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := 0
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok || len(vs.Values) != len(vs.Names) {
				return true
			}
			for i, v := range vs.Values {
				if lit, isLit := v.(*ast.BasicLit); isLit && vs.Type != nil {
					if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Event" {
						e := events.Event(lit.Value[1 : len(lit.Value)-1])
						seen++
						for _, fields := range []map[string]string{nil, {"reason": "number_changed"}, {NewBrowserField: "true"}} {
							if kindOf(e, fields) != "" && !mayNotify(e) {
								t.Errorf("event %s (%s) has a notice but mayNotify lets it by", vs.Names[i].Name, e)
							}
						}
					}
				}
			}
			return true
		})
	}
	if seen < 20 {
		t.Fatalf("read %d event constants, want all of them (are they still typed Event in a const block?)", seen)
	}
}
