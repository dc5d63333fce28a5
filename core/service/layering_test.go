package service_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// frontDoors are the packages that serve requests and events; they change
// state only through the service layer.
var frontDoors = []string{"../api", "../dashboard", "../webhook", "../schedule"}

// writeVerb matches the store methods that change state.
var writeVerb = regexp.MustCompile(`^(Create|Update|Delete|Set|Rename|Rotate|Remove|Replace|Upsert|Start|Finish|Mark|Insert|Record|Revoke|Setup|Add|Cancel|Claim|Touch|Grant|WithTx)`)

// TestFrontDoorsDoNotWriteToTheStore fails for every call of a writing
// store method (s.store.CreateX, d.store.DeleteY, tx.UpdateZ on a
// *store.Tx, ...) in a front door's non-test code: such a write skips the
// service layer's validation, authorization and transaction.
func TestFrontDoorsDoNotWriteToTheStore(t *testing.T) {
	var found []string
	for _, dir := range frontDoors {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || !writeVerb.MatchString(sel.Sel.Name) || !isStore(sel.X) {
					return true
				}
				found = append(found, fset.Position(call.Pos()).String()+": "+sel.Sel.Name)
				return true
			})
		}
	}
	sort.Strings(found)
	for _, f := range found {
		t.Errorf("a front door writes to the store directly: %s", f)
	}
}

// isStore reports whether x names the store or a store transaction:
// x.store, x.Store, store, st, tx.
func isStore(x ast.Expr) bool {
	switch v := x.(type) {
	case *ast.SelectorExpr:
		return v.Sel.Name == "store" || v.Sel.Name == "Store"
	case *ast.Ident:
		return v.Name == "store" || v.Name == "st" || v.Name == "tx"
	case *ast.CallExpr: // s.svc.Store().CreateX
		if sel, ok := v.Fun.(*ast.SelectorExpr); ok {
			return sel.Sel.Name == "Store"
		}
	}
	return false
}
