// Package rolecoverage derives, for every Go Lambda handler, the AWS API
// operations its code can call, and maps them to the IAM actions they need.
// Its test checks those actions against the synthesized roles and resource
// policies of every stack.
package rolecoverage

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

// sdkServicePrefix is the import path prefix of the AWS SDK for Go v2
// service clients; an operation's input type is <service>.<Op>Input.
const sdkServicePrefix = "github.com/aws/aws-sdk-go-v2/service/"

// A stand-in client calls AWS without the SDK's service package (awsjson,
// which handlers use where a whole SDK client would outweigh one or two
// operations). Its package declares the service in a string constant named
// standInConst, and its <Op>Input types then name that service's
// operations. A package that calls awsjson's Call must declare it.
const (
	standInConst  = "SDKService"
	awsjsonSuffix = "/internal/awsjson"
)

// Operation is one AWS API operation, named by the SDK package of its
// client (e.g. "s3") and the operation (e.g. "GetObject").
type Operation struct {
	Service string
	Name    string
}

func (o Operation) String() string { return o.Service + "." + o.Name }

// Use is an Operation and where the code refers to it.
type Use struct {
	Operation
	// At is file:line of the first use found.
	At string
	// StandIn is the import path of the stand-in client whose <Op>Input
	// names the operation; empty for the SDK's own service package.
	StandIn string
}

// HandlerOperations loads the main packages matched by pattern in the
// module at dir (for example "./lambda-src/...") and returns, per main
// package import path, every operation its code or the module's packages
// it imports refer to: every function or method, called or passed as a
// value, whose parameters include *<service>.<Op>Input. That covers the
// narrow per-operation interfaces handlers are built on, direct client
// calls, presign clients (PresignGetObject takes *s3.GetObjectInput),
// paginators and waiters. Test files are not read.
func HandlerOperations(dir, pattern string) (map[string][]Use, error) {
	module, err := modulePath(dir)
	if err != nil {
		return nil, err
	}
	graph, err := packages.Load(&packages.Config{Dir: dir, Mode: packages.NeedName | packages.NeedImports | packages.NeedDeps}, pattern)
	if err != nil {
		return nil, fmt.Errorf("rolecoverage: go list %s: %w", pattern, err)
	}
	inModule := func(p string) bool { return p == module || strings.HasPrefix(p, module+"/") }
	closure := map[string][]string{} // main package -> in-module packages it builds from
	var all []string
	seen := map[string]bool{}
	for _, p := range graph {
		if len(p.Errors) > 0 {
			return nil, fmt.Errorf("rolecoverage: %s: %v", p.PkgPath, p.Errors[0])
		}
		if p.Name != "main" {
			continue
		}
		var deps []string
		visited := map[string]bool{}
		var walk func(*packages.Package)
		walk = func(q *packages.Package) {
			if visited[q.PkgPath] || !inModule(q.PkgPath) {
				return
			}
			visited[q.PkgPath] = true
			deps = append(deps, q.PkgPath)
			if !seen[q.PkgPath] {
				seen[q.PkgPath] = true
				all = append(all, q.PkgPath)
			}
			for _, imp := range q.Imports {
				walk(imp)
			}
		}
		walk(p)
		closure[p.PkgPath] = deps
	}
	if len(closure) == 0 {
		return nil, fmt.Errorf("rolecoverage: no main package matches %s in %s", pattern, dir)
	}
	sort.Strings(all)
	// -trimpath as `make test` compiles: the dependencies' export data is
	// then the build cache's, not a second compile of the SDK clients.
	typed, err := packages.Load(&packages.Config{Dir: dir, BuildFlags: []string{"-trimpath"}, Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo}, all...)
	if err != nil {
		return nil, fmt.Errorf("rolecoverage: type-checking handlers: %w", err)
	}
	perPackage := map[string][]Use{}
	for _, p := range typed {
		if len(p.Errors) > 0 {
			return nil, fmt.Errorf("rolecoverage: %s: %v", p.PkgPath, p.Errors[0])
		}
		if err := checkStandIn(p); err != nil {
			return nil, err
		}
		perPackage[p.PkgPath] = packageOperations(p)
	}
	out := map[string][]Use{}
	for main, deps := range closure {
		byOp := map[Operation]Use{}
		for _, d := range deps {
			for _, u := range perPackage[d] {
				if _, ok := byOp[u.Operation]; !ok {
					byOp[u.Operation] = u
				}
			}
		}
		uses := make([]Use, 0, len(byOp))
		for _, u := range byOp {
			uses = append(uses, u)
		}
		sort.Slice(uses, func(i, j int) bool { return uses[i].String() < uses[j].String() })
		out[main] = uses
	}
	return out, nil
}

// packageOperations returns the operations p's identifiers refer to.
func packageOperations(p *packages.Package) []Use {
	var uses []Use
	seen := map[Operation]bool{}
	for _, f := range p.Syntax {
		ast.Inspect(f, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok {
				return true
			}
			obj := p.TypesInfo.Uses[id]
			if obj == nil {
				return true
			}
			sig, ok := obj.Type().Underlying().(*types.Signature)
			if !ok {
				return true
			}
			for i := range sig.Params().Len() {
				op, standIn, ok := inputOperation(sig.Params().At(i).Type())
				if !ok || seen[op] {
					continue
				}
				seen[op] = true
				pos := p.Fset.Position(id.Pos())
				uses = append(uses, Use{Operation: op, At: fmt.Sprintf("%s:%d", pos.Filename, pos.Line), StandIn: standIn})
			}
			return true
		})
	}
	return uses
}

// inputOperation reports the operation whose input type t is
// (*<service>.<Op>Input), and the stand-in client package that declares it,
// if it is not the SDK's.
func inputOperation(t types.Type) (op Operation, standIn string, ok bool) {
	ptr, ok := t.(*types.Pointer)
	if !ok {
		return Operation{}, "", false
	}
	named, ok := ptr.Elem().(*types.Named)
	if !ok || named.Obj().Pkg() == nil {
		return Operation{}, "", false
	}
	pkg, name := named.Obj().Pkg(), named.Obj().Name()
	service, ok := strings.CutPrefix(pkg.Path(), sdkServicePrefix)
	if !ok {
		standIn = pkg.Path()
		service, ok = standInService(pkg)
	}
	if !ok || strings.Contains(service, "/") || !strings.HasSuffix(name, "Input") {
		return Operation{}, "", false
	}
	return Operation{Service: service, Name: strings.TrimSuffix(name, "Input")}, standIn, true
}

// standInService is the SDK service a stand-in client package declares.
func standInService(pkg *types.Package) (string, bool) {
	c, ok := pkg.Scope().Lookup(standInConst).(*types.Const)
	if !ok || c.Val().Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(c.Val()), true
}

// checkStandIn refuses a package that calls AWS through awsjson's Call
// without declaring which SDK service its operations belong to.
func checkStandIn(p *packages.Package) error {
	if _, ok := standInService(p.Types); ok {
		return nil
	}
	for _, obj := range p.TypesInfo.Uses {
		if obj.Name() == "Call" && obj.Pkg() != nil && strings.HasSuffix(obj.Pkg().Path(), awsjsonSuffix) {
			return fmt.Errorf("rolecoverage: %s calls AWS through awsjson but declares no string constant %s naming the SDK service its <Op>Input types stand for", p.PkgPath, standInConst)
		}
	}
	return nil
}

func modulePath(dir string) (string, error) {
	pkgs, err := packages.Load(&packages.Config{Dir: dir, Mode: packages.NeedModule}, ".")
	if err != nil || len(pkgs) == 0 || pkgs[0].Module == nil {
		return "", fmt.Errorf("rolecoverage: no Go module at %s: %v", dir, err)
	}
	return pkgs[0].Module.Path, nil
}
