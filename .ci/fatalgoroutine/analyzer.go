package main

import (
	"fmt"
	"go/ast"
	"go/types"
	"slices"

	"golang.org/x/tools/go/analysis"
)

// Analyzer reports test-ending calls on goroutines other than the test's.
var Analyzer = &analysis.Analyzer{
	Name: "fatalgoroutine",
	Doc: "report t.Fatal, t.FailNow, t.Skip and testify require calls, direct or through helpers, " +
		"made on a goroutine other than the test's",
	Run:       run,
	FactTypes: []analysis.Fact{new(endsTest), new(spawnsParams)},
}

// endsTest marks a function that may end the test on the goroutine that
// calls it.
type endsTest struct {
	Via string // the test-ending call it may reach, e.g. (*testing.common).Fatalf
}

func (*endsTest) AFact()           {}
func (f *endsTest) String() string { return "endsTest(" + f.Via + ")" }

// spawnsParams marks a function that calls some of its function-typed
// parameters on a goroutine it starts.
type spawnsParams struct {
	Params []int // indices in the signature's parameters
}

func (*spawnsParams) AFact()           {}
func (f *spawnsParams) String() string { return fmt.Sprintf("spawnsParams(%v)", f.Params) }

// testEnding are the methods of package testing that stop the calling
// goroutine.
var testEnding = map[string]bool{"FailNow": true, "Fatal": true, "Fatalf": true, "Skip": true, "Skipf": true, "SkipNow": true}

type checker struct {
	pass *analysis.Pass
	// bodies of the package's functions and methods, and of function
	// literals bound to variables (judged where they are called).
	bodies map[types.Object][]*ast.BlockStmt
	bound  map[*ast.FuncLit]bool
	ends   map[types.Object]string
	spawns map[types.Object][]int
}

func run(pass *analysis.Pass) (any, error) {
	c := &checker{
		pass:   pass,
		bodies: map[types.Object][]*ast.BlockStmt{},
		bound:  map[*ast.FuncLit]bool{},
		ends:   map[types.Object]string{},
		spawns: map[types.Object][]int{},
	}
	c.collect()
	c.solveSpawns()
	c.solveEnds()
	for obj, via := range c.ends {
		if fn, ok := obj.(*types.Func); ok {
			pass.ExportObjectFact(fn, &endsTest{Via: via})
		}
	}
	for obj, params := range c.spawns {
		if fn, ok := obj.(*types.Func); ok {
			slices.Sort(params)
			pass.ExportObjectFact(fn, &spawnsParams{Params: params})
		}
	}
	c.report()
	return nil, nil
}

func (c *checker) collect() {
	for _, f := range c.pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if obj := c.pass.TypesInfo.Defs[n.Name]; obj != nil && n.Body != nil {
					c.bodies[obj] = append(c.bodies[obj], n.Body)
				}
			case *ast.AssignStmt:
				if len(n.Lhs) == len(n.Rhs) {
					for i := range n.Lhs {
						c.bind(n.Lhs[i], n.Rhs[i])
					}
				}
			case *ast.ValueSpec:
				if len(n.Names) == len(n.Values) {
					for i := range n.Names {
						c.bind(n.Names[i], n.Values[i])
					}
				}
			}
			return true
		})
	}
}

// bind records `x := func…` and `var x = func…`.
func (c *checker) bind(lhs, rhs ast.Expr) {
	lit, ok := ast.Unparen(rhs).(*ast.FuncLit)
	if !ok {
		return
	}
	id, ok := lhs.(*ast.Ident)
	if !ok {
		return
	}
	if v, ok := c.pass.TypesInfo.ObjectOf(id).(*types.Var); ok {
		c.bodies[v] = append(c.bodies[v], lit.Body)
		c.bound[lit] = true
	}
}

// callee is the function, method or function variable call calls.
func (c *checker) callee(call *ast.CallExpr) types.Object {
	return c.objectOf(call.Fun)
}

func (c *checker) objectOf(e ast.Expr) types.Object {
	var obj types.Object
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		obj = c.pass.TypesInfo.Uses[e]
	case *ast.SelectorExpr:
		if sel := c.pass.TypesInfo.Selections[e]; sel != nil {
			obj = sel.Obj()
		} else {
			obj = c.pass.TypesInfo.Uses[e.Sel]
		}
	case *ast.IndexExpr: // f[T]
		return c.objectOf(e.X)
	case *ast.IndexListExpr: // f[K, V]
		return c.objectOf(e.X)
	}
	if fn, ok := obj.(*types.Func); ok {
		return fn.Origin()
	}
	if v, ok := obj.(*types.Var); ok {
		return v
	}
	return nil
}

// endsOf says which test-ending call obj may reach, or "".
func (c *checker) endsOf(obj types.Object) string {
	if obj == nil {
		return ""
	}
	if fn, ok := obj.(*types.Func); ok && fn.Pkg() != nil {
		path := fn.Pkg().Path()
		switch {
		case path == "testing" && isMethod(fn) && testEnding[fn.Name()]:
			return fn.FullName()
		case path == "github.com/stretchr/testify/require":
			return fn.FullName()
		case path == "github.com/stretchr/testify/assert" && (fn.Name() == "FailNow" || fn.Name() == "FailNowf"):
			return fn.FullName()
		case fn.Pkg() != c.pass.Pkg:
			var f endsTest
			if c.pass.ImportObjectFact(fn, &f) {
				return f.Via
			}
			return ""
		}
	}
	return c.ends[obj]
}

// spawned returns the arguments of call that the callee runs on another
// goroutine, and whether that goroutine runs a test (t.Run).
func (c *checker) spawned(call *ast.CallExpr) (args []int, test bool) {
	fn, ok := c.callee(call).(*types.Func)
	if !ok || fn.Pkg() == nil {
		return nil, false
	}
	switch {
	case fn.Pkg().Path() == "testing" && fn.Name() == "Run" && isMethod(fn):
		return []int{1}, true
	case isMethodOf(fn, "sync", "WaitGroup", "Go"), isMethodOf(fn, "golang.org/x/sync/errgroup", "Group", "Go"):
		return []int{0}, false
	case fn.Pkg() != c.pass.Pkg:
		var f spawnsParams
		if c.pass.ImportObjectFact(fn, &f) {
			return f.Params, false
		}
		return nil, false
	}
	return c.spawns[fn], false
}

// walk calls visit for each call under root that runs on root's
// goroutine. It skips go statements, function literals bound to variables
// (judged where they are called) and literals handed to a function that
// runs them on another goroutine.
func (c *checker) walk(root ast.Node, visit func(*ast.CallExpr)) {
	ast.Inspect(root, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			return false
		case *ast.FuncLit:
			return !c.bound[n]
		case *ast.CallExpr:
			visit(n)
			args, _ := c.spawned(n)
			if len(args) == 0 {
				return true
			}
			c.walk(n.Fun, visit)
			for i, a := range n.Args {
				if _, lit := ast.Unparen(a).(*ast.FuncLit); lit && slices.Contains(args, i) {
					continue
				}
				c.walk(a, visit)
			}
			return false
		}
		return true
	})
}

// region is code that runs on a goroutine other than the one that
// starts it: a function literal's body, or a function value (with the
// call, for go f(x)).
type region struct {
	at   ast.Node
	body *ast.BlockStmt
	fun  ast.Expr
	call *ast.CallExpr
}

// regions finds every goroutine started under root.
func (c *checker) regions(root ast.Node) []region {
	var out []region
	ast.Inspect(root, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			if lit, ok := ast.Unparen(n.Call.Fun).(*ast.FuncLit); ok {
				out = append(out, region{at: n, body: lit.Body})
			} else {
				out = append(out, region{at: n, fun: n.Call.Fun, call: n.Call})
			}
		case *ast.CallExpr:
			args, test := c.spawned(n)
			if test {
				break
			}
			for _, i := range args {
				if i >= len(n.Args) {
					continue
				}
				a := ast.Unparen(n.Args[i])
				if lit, ok := a.(*ast.FuncLit); ok {
					out = append(out, region{at: lit, body: lit.Body})
				} else {
					out = append(out, region{at: a, fun: a})
				}
			}
		}
		return true
	})
	return out
}

// solveSpawns finds the functions that call a parameter on a goroutine
// they start, directly or by handing it to another such function.
func (c *checker) solveSpawns() {
	for changed := true; changed; {
		changed = false
		for obj, bodies := range c.bodies {
			fn, ok := obj.(*types.Func)
			if !ok {
				continue
			}
			params := fn.Type().(*types.Signature).Params()
			index := map[types.Object]int{}
			for i := range params.Len() {
				index[params.At(i)] = i
			}
			add := func(e ast.Expr) {
				if id, ok := ast.Unparen(e).(*ast.Ident); ok {
					if i, ok := index[c.pass.TypesInfo.Uses[id]]; ok && !slices.Contains(c.spawns[obj], i) {
						c.spawns[obj] = append(c.spawns[obj], i)
						changed = true
					}
				}
			}
			for _, b := range bodies {
				for _, r := range c.regions(b) {
					if r.body != nil {
						c.walk(r.body, func(call *ast.CallExpr) { add(call.Fun) })
					} else {
						add(r.fun)
					}
				}
			}
		}
	}
}

// solveEnds finds the functions that may end the test on their caller's
// goroutine.
func (c *checker) solveEnds() {
	for changed := true; changed; {
		changed = false
		for obj, bodies := range c.bodies {
			if c.ends[obj] != "" {
				continue
			}
			for _, b := range bodies {
				via := ""
				c.walk(b, func(call *ast.CallExpr) {
					if via == "" {
						via = c.endsOf(c.callee(call))
					}
				})
				if via != "" {
					c.ends[obj] = via
					changed = true
					break
				}
			}
		}
	}
}

func (c *checker) report() {
	const why = "on a goroutine other than the test's: it may call %s, which stops only that goroutine"
	for _, f := range c.pass.Files {
		for _, r := range c.regions(f) {
			switch {
			case r.body != nil:
				c.walk(r.body, func(call *ast.CallExpr) {
					if via := c.endsOf(c.callee(call)); via != "" {
						c.pass.Reportf(call.Pos(), "call to %s "+why, types.ExprString(call.Fun), via)
					}
				})
			case r.call != nil:
				if via := c.endsOf(c.callee(r.call)); via != "" {
					c.pass.Reportf(r.at.Pos(), "go %s runs "+why, types.ExprString(r.fun), via)
				}
			default:
				if via := c.endsOf(c.objectOf(r.fun)); via != "" {
					c.pass.Reportf(r.at.Pos(), "%s runs "+why, types.ExprString(r.fun), via)
				}
			}
		}
	}
}

func isMethod(fn *types.Func) bool {
	sig, ok := fn.Type().(*types.Signature)
	return ok && sig.Recv() != nil
}

// isMethodOf reports whether fn is the method name of pkg.typ or *pkg.typ.
func isMethodOf(fn *types.Func, pkg, typ, name string) bool {
	if fn.Name() != name || !isMethod(fn) {
		return false
	}
	t := fn.Type().(*types.Signature).Recv().Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	named, ok := t.(*types.Named)
	return ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Path() == pkg && named.Obj().Name() == typ
}
