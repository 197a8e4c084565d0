package deploy

// The RAM policy (shared/tooling/rampolicy) against what the shipped code really
// calls. The actions are derived, not listed: every package the three
// function binaries link (go list -deps ./functions/..., built as for
// Function Compute: linux/amd64, no cgo) is type-checked from source, and
// every method of the RDS SDK client and of the MNS SDK that the code calls
// (or takes as a method value) becomes a RAM action: rds:<Operation> for
// rds.Client's <Operation> and <Operation>WithOptions, mns:<API> for the MNS
// SDK method that sends that API request (mnsAPIMethods). The generic
// darabonba-openapi CallApi on rds.Client maps only when its Params come
// from a function of the same package that returns &openapi.Params{Action:
// tea.String(C)} with C a string constant (callAPIActions): rds:<C>. A call
// that cannot be mapped (a new SDK method, a raw MNSClient.Send, any other
// CallApi, another product's SDK) fails the test: it needs a decision here
// and in the policy.
//
// The Tablestore SDK's client methods (the ask ledger's) map the same way,
// ots:<API> for TableStoreClient's <API> (otsAPIMethods), except inside the
// functions listed in deployOnly: shared/ledger's CreateTable makes the
// table for the deploy tooling with a deployer's key, and no shipped code
// calls it (checked), so the role is not granted ots:CreateTable.
//
// The policy's two variants together must grant exactly those actions,
// nothing more and nothing less, and rampolicy's exported lists must say
// the same. The queue trigger's reads (mns:ReceiveMessage, DeleteMessage,
// ChangeMessageVisibility) are EventBridge's, with its own service-linked
// role; no function calls them, so the policy does not grant them.

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/rampolicy"
)

// The SDK packages whose calls need RAM permissions.
const (
	rdsSDK     = "github.com/alibabacloud-go/rds-20140815/v3/client"
	mnsSDK     = "github.com/aliyun/aliyun-mns-go-sdk"
	openapiSDK = "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	otsSDK     = "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
	stsSDK     = "github.com/alibabacloud-go/sts-20150401/v2/client"
)

// otsAPIMethods are TableStoreClient's (and TableStoreApi's) methods whose
// RAM action is ots:<method> (Tablestore's RAM page: the action is the API's
// name). Any other method of the client that sends a request is unmapped
// until someone decides its action.
var otsAPIMethods = []string{
	"GetRow", "PutRow", "UpdateRow", "DeleteRow", "BatchGetRow", "BatchWriteRow", "GetRange",
	"CreateTable", "ListTable", "DeleteTable", "DescribeTable", "UpdateTable",
}

// otsLocalMethods are TableStoreClient's methods that send nothing.
var otsLocalMethods = []string{"GetExternalHeader", "GetRetryNotify", "SetRetryNotify"}

// deployOnly are functions of the shipped packages (import path → function
// names, no methods) whose SDK calls serve the deploy tooling, never an
// invocation: their calls need no grant, and no shipped package may call
// them.
var deployOnly = map[string][]string{
	module + "/shared/ledger": {"CreateTable"},
}

// rdsLocalMethods are rds.Client's methods that send no API request.
var rdsLocalMethods = []string{"Init", "GetEndpoint"}

// mnsAPIMethods maps each method of the MNS SDK (aliyun-mns-go-sdk v1.0.11:
// AliMNSQueue, AliMNSTopic, AliQueueManager, AliTopicManager,
// AccountManager) that sends a request to the API it sends, which is also
// its RAM action (MNS's API reference, "Authorization information").
var mnsAPIMethods = map[string]string{
	// queue messages
	"SendMessage":             "SendMessage",
	"BatchSendMessage":        "BatchSendMessage",
	"ReceiveMessage":          "ReceiveMessage",
	"BatchReceiveMessage":     "BatchReceiveMessage",
	"PeekMessage":             "PeekMessage",
	"BatchPeekMessage":        "BatchPeekMessage",
	"DeleteMessage":           "DeleteMessage",
	"BatchDeleteMessage":      "BatchDeleteMessage",
	"ChangeMessageVisibility": "ChangeMessageVisibility",
	// topics and subscriptions
	"PublishMessage":                "PublishMessage",
	"Subscribe":                     "Subscribe",
	"Unsubscribe":                   "Unsubscribe",
	"SetSubscriptionAttributes":     "SetSubscriptionAttributes",
	"GetSubscriptionAttributes":     "GetSubscriptionAttributes",
	"ListSubscriptionByTopic":       "ListSubscriptionByTopic",
	"ListSubscriptionDetailByTopic": "ListSubscriptionByTopic",
	// queue and topic management
	"CreateQueue":                   "CreateQueue",
	"CreateSimpleQueue":             "CreateQueue",
	"CreateQueueWithOptions":        "CreateQueue",
	"DeleteQueue":                   "DeleteQueue",
	"GetQueueAttributes":            "GetQueueAttributes",
	"SetQueueAttributes":            "SetQueueAttributes",
	"SetQueueAttributesWithOptions": "SetQueueAttributes",
	"ListQueue":                     "ListQueue",
	"ListQueueDetail":               "ListQueue",
	"CreateTopic":                   "CreateTopic",
	"CreateSimpleTopic":             "CreateTopic",
	"DeleteTopic":                   "DeleteTopic",
	"GetTopicAttributes":            "GetTopicAttributes",
	"SetTopicAttributes":            "SetTopicAttributes",
	"ListTopic":                     "ListTopic",
	"ListTopicDetail":               "ListTopic",
	"OpenService":                   "OpenService",
}

// mnsLocalMethods are the MNS SDK's methods that send nothing. Send (the
// raw request of MNSClient) is deliberately absent: it cannot be mapped.
var mnsLocalMethods = []string{
	"Name", "QPSMonitor", "GenerateQueueEndpoint", "GenerateMailEndpoint",
	"SetProxy", "SetTransport", "Pulse", "QPS", "Update",
	"Decode", "DecodeError", "Test", "MarshalJSON", "MarshalXML", "SetBaseResponse",
}

// stsLocalMethods are the STS client's methods that send nothing.
var stsLocalMethods = []string{"Init", "GetEndpoint"}

// productSDK matches an Alibaba Cloud product SDK (service-version).
var productSDK = regexp.MustCompile(`^github\.com/alibabacloud-go/[a-z0-9-]+-\d{8}(/|$)|^github\.com/aliyun/alibaba-cloud-sdk-go(/|$)`)

// build is the shipped code: every package linked into a function binary,
// with its export data (for the importer) and, for the module's own
// packages, its source files.
type build struct {
	fset    *token.FileSet
	exports map[string]string // import path → export data file
	own     []ownPackage      // the module's packages, in go list order
	all     []string          // every import path
	imp     types.Importer
}

type ownPackage struct {
	path  string
	files []string
}

// shippedBuild runs go list -deps -export on the functions, configured as
// the Makefile builds them (CGO_ENABLED=0 GOOS=linux GOARCH=amd64), so the
// files are those that ship.
func shippedBuild(t *testing.T) *build {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-export",
		"-f", "{{.ImportPath}}\t{{.Export}}\t{{.Dir}}\t{{join .GoFiles \",\"}}", "./functions/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps -export ./functions/...: %v\n%s", err, stderr)
	}
	b := &build{fset: token.NewFileSet(), exports: map[string]string{}}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		path, export, dir, files := f[0], f[1], f[2], f[3]
		b.all = append(b.all, path)
		if export != "" {
			b.exports[path] = export
		}
		if path == module || strings.HasPrefix(path, module+"/") {
			p := ownPackage{path: path}
			for name := range strings.SplitSeq(files, ",") {
				if name != "" {
					p.files = append(p.files, filepath.Join(dir, name))
				}
			}
			b.own = append(b.own, p)
		}
	}
	b.imp = importer.ForCompiler(b.fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := b.exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %q", path)
		}
		return os.Open(file)
	})
	return b
}

// check type-checks one package from source.
func (b *build) check(path string, files []*ast.File) (*types.Package, *types.Info, error) {
	info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}, Uses: map[*ast.Ident]types.Object{},
		Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{}}
	pkg, err := (&types.Config{Importer: b.imp}).Check(path, b.fset, files, info)
	return pkg, info, err
}

// checkFiles parses and type-checks one of the module's packages.
func (b *build) checkFiles(t *testing.T, p ownPackage) (*types.Package, *types.Info, []*ast.File) {
	t.Helper()
	var files []*ast.File
	for _, name := range p.files {
		f, err := parser.ParseFile(b.fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	pkg, info, err := b.check(p.path, files)
	if err != nil {
		t.Fatalf("type-check %s: %v", p.path, err)
	}
	return pkg, info, files
}

// deployOnlyBodies reports whether a position lies in one of the package's
// deployOnly functions.
func deployOnlyBodies(path string, files []*ast.File) func(token.Pos) bool {
	names := deployOnly[path]
	var spans [][2]token.Pos
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && slices.Contains(names, fd.Name.Name) {
				spans = append(spans, [2]token.Pos{fd.Pos(), fd.End()})
			}
		}
	}
	return func(p token.Pos) bool {
		return slices.ContainsFunc(spans, func(s [2]token.Pos) bool { return s[0] <= p && p < s[1] })
	}
}

// recvName is the name of a method's receiver type ("" for a function).
func recvName(fn *types.Func) string {
	sig, ok := fn.Type().(*types.Signature)
	if !ok || sig.Recv() == nil {
		return ""
	}
	t := sig.Recv().Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Obj().Name()
	}
	return ""
}

// recvIs reports whether a method's receiver type (a pointer or not) is
// declared in package path.
func recvIs(t types.Type, path string) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == path
}

// sdkCalls is what a package asks of the cloud: RAM actions with where they
// are called, and SDK methods that cannot be mapped to an action.
type sdkCalls struct {
	actions  map[string][]string // "rds:CreateBackup" → positions
	unmapped []string            // "position: what"
}

// callAPIActions finds the package's calls of the generic CallApi whose
// action is known before the call runs: the Params argument is a call of a
// function of the same package whose body returns &openapi.Params{...}
// with Action: tea.String(C), C a string constant. It maps each such
// call's selector to C.
func callAPIActions(files []*ast.File, info *types.Info) map[*ast.SelectorExpr]string {
	fixed := map[types.Object]string{} // functions returning Params of a constant action
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || len(fd.Body.List) != 1 {
				continue
			}
			ret, ok := fd.Body.List[0].(*ast.ReturnStmt)
			if !ok || len(ret.Results) != 1 {
				continue
			}
			ue, ok := ret.Results[0].(*ast.UnaryExpr)
			if !ok || ue.Op != token.AND {
				continue
			}
			lit, ok := ue.X.(*ast.CompositeLit)
			if !ok {
				continue
			}
			if n, ok := types.Unalias(info.Types[lit].Type).(*types.Named); !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != openapiSDK || n.Obj().Name() != "Params" {
				continue
			}
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if k, isIdent := kv.Key.(*ast.Ident); !ok || !isIdent || k.Name != "Action" {
					continue
				}
				call, ok := kv.Value.(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					continue
				}
				if tv := info.Types[call.Args[0]]; tv.Value != nil && tv.Value.Kind() == constant.String {
					fixed[info.Defs[fd.Name]] = constant.StringVal(tv.Value)
				}
			}
		}
	}
	out := map[*ast.SelectorExpr]string{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "CallApi" {
				return true
			}
			inner, ok := call.Args[0].(*ast.CallExpr)
			if !ok {
				return true
			}
			if id, ok := inner.Fun.(*ast.Ident); ok {
				if a, ok := fixed[info.Uses[id]]; ok {
					out[sel] = a
				}
			}
			return true
		})
	}
	return out
}

// scan collects every SDK method a package calls or takes as a value,
// except where skip (when not nil) says the call serves the deploy tooling;
// callAPI (callAPIActions) names the actions of the CallApi calls it can.
func scan(fset *token.FileSet, info *types.Info, skip func(token.Pos) bool, callAPI map[*ast.SelectorExpr]string) sdkCalls {
	c := sdkCalls{actions: map[string][]string{}}
	for expr, sel := range info.Selections {
		if sel.Kind() == types.FieldVal || (skip != nil && skip(expr.Sel.Pos())) {
			continue
		}
		fn, ok := sel.Obj().(*types.Func)
		if !ok || fn.Pkg() == nil {
			continue
		}
		pos := fset.Position(expr.Sel.Pos())
		where := fmt.Sprintf("%s:%d", filepath.Base(pos.Filename), pos.Line)
		name := fn.Name()
		switch fn.Pkg().Path() {
		case rdsSDK:
			if slices.Contains(rdsLocalMethods, name) {
				continue
			}
			op := strings.TrimSuffix(name, "WithOptions")
			c.actions["rds:"+op] = append(c.actions["rds:"+op], where)
		case mnsSDK:
			if api, ok := mnsAPIMethods[name]; ok {
				c.actions["mns:"+api] = append(c.actions["mns:"+api], where)
			} else if !slices.Contains(mnsLocalMethods, name) {
				c.unmapped = append(c.unmapped, fmt.Sprintf("%s: MNS SDK method %s (not in mnsAPIMethods: which RAM action does it need?)", where, name))
			}
		case stsSDK:
			// STS's client: AssumeRole is the one API the functions send
			// (shared/memberauth); anything else must be mapped first.
			switch op := strings.TrimSuffix(name, "WithOptions"); {
			case op == "AssumeRole":
				c.actions["sts:AssumeRole"] = append(c.actions["sts:AssumeRole"], where)
			case slices.Contains(stsLocalMethods, name):
			default:
				c.unmapped = append(c.unmapped, fmt.Sprintf("%s: STS SDK method %s (only AssumeRole is mapped: which RAM action does it need?)", where, name))
			}
		case openapiSDK:
			if a, ok := callAPI[expr]; ok && name == "CallApi" && recvIs(sel.Recv(), rdsSDK) {
				c.actions["rds:"+a] = append(c.actions["rds:"+a], where)
				continue
			}
			c.unmapped = append(c.unmapped, fmt.Sprintf("%s: generic OpenAPI method %s (its action is a runtime value: call the product client's operation instead, or pass Params made by a function that names a constant Action)", where, name))
		case otsSDK:
			if r := recvName(fn); r != "TableStoreClient" && r != "TableStoreApi" {
				continue // request builders (PutRowChange.AddColumn, ...) send nothing
			}
			switch {
			case slices.Contains(otsAPIMethods, name):
				c.actions["ots:"+name] = append(c.actions["ots:"+name], where)
			case !slices.Contains(otsLocalMethods, name):
				c.unmapped = append(c.unmapped, fmt.Sprintf("%s: Tablestore SDK method %s (not in otsAPIMethods: which RAM action does it need?)", where, name))
			}
		}
	}
	return c
}

func (c *sdkCalls) merge(o sdkCalls, pkg string) {
	for a, ps := range o.actions {
		for _, p := range ps {
			c.actions[a] = append(c.actions[a], pkg+"/"+p)
		}
	}
	for _, u := range o.unmapped {
		c.unmapped = append(c.unmapped, pkg+"/"+u)
	}
}

// diffActions returns the actions called but not granted and those granted
// but never called.
func diffActions(called, granted []string) (missing, extra []string) {
	for _, a := range called {
		if !slices.Contains(granted, a) {
			missing = append(missing, a)
		}
	}
	for _, a := range granted {
		if !slices.Contains(called, a) {
			extra = append(extra, a)
		}
	}
	return missing, extra
}

// grantedActions is the union of the actions both policy variants grant.
func grantedActions(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, v := range []rampolicy.Variant{rampolicy.Queue, rampolicy.Topic} {
		doc, err := rampolicy.Document(v)
		if err != nil {
			t.Fatal(err)
		}
		p, err := rampolicy.Parse(doc)
		if err != nil {
			t.Fatalf("%s variant: %v", v, err)
		}
		out = append(out, p.Actions()...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestRAMPolicyGrantsExactlyWhatTheShippedCodeCalls(t *testing.T) {
	b := shippedBuild(t)

	// Every product SDK that ships must be one this test maps.
	for _, p := range b.all {
		if productSDK.MatchString(p) && !strings.HasPrefix(p, strings.TrimSuffix(rdsSDK, "/client")) && !strings.HasPrefix(p, strings.TrimSuffix(stsSDK, "/client")) {
			t.Errorf("the functions link %s, a product SDK this test does not map to RAM actions", p)
		}
	}

	all := sdkCalls{actions: map[string][]string{}}
	var rdsclientOps, rdsclientConsts []string
	var deployOnlyCalls []string
	for _, p := range b.own {
		pkg, info, files := b.checkFiles(t, p)
		calls := scan(b.fset, info, deployOnlyBodies(p.path, files), callAPIActions(files, info))
		for id, obj := range info.Uses {
			if fn, ok := obj.(*types.Func); ok && fn.Pkg() != nil && fn.Pkg().Path() != p.path &&
				recvName(fn) == "" && slices.Contains(deployOnly[fn.Pkg().Path()], fn.Name()) {
				pos := b.fset.Position(id.Pos())
				deployOnlyCalls = append(deployOnlyCalls, fmt.Sprintf("%s/%s:%d calls %s.%s", strings.TrimPrefix(p.path, module+"/"), filepath.Base(pos.Filename), pos.Line, fn.Pkg().Name(), fn.Name()))
			}
		}
		all.merge(calls, strings.TrimPrefix(p.path, module+"/"))
		if p.path != module+"/shared/rdsclient" {
			continue
		}
		// rdsclient's Action* constants name the operations it sends.
		for a := range calls.actions {
			if op, ok := strings.CutPrefix(a, "rds:"); ok {
				rdsclientOps = append(rdsclientOps, op)
			}
		}
		for _, name := range pkg.Scope().Names() {
			if c, ok := pkg.Scope().Lookup(name).(*types.Const); ok && strings.HasPrefix(name, "Action") && c.Val().Kind() == constant.String {
				rdsclientConsts = append(rdsclientConsts, constant.StringVal(c.Val()))
			}
		}
	}
	for _, u := range all.unmapped {
		t.Errorf("cannot map to a RAM action: %s", u)
	}
	for _, c := range deployOnlyCalls {
		t.Errorf("%s, which is for the deploy tooling only (its calls are not granted to the role)", c)
	}
	if !slices.Contains(b.all, otsSDK) {
		t.Errorf("the functions do not link %s: the ask ledger is gone, or moved; its statement in the policy may be too", otsSDK)
	}
	called := slices.Sorted(maps.Keys(all.actions))
	for _, a := range called {
		t.Logf("%-36s %s", a, strings.Join(all.actions[a], ", "))
	}
	for _, svc := range []string{"rds:", "mns:", "ots:"} {
		if !slices.ContainsFunc(called, func(a string) bool { return strings.HasPrefix(a, svc) }) {
			t.Fatalf("found no %s call in the shipped code (%v): the scan is broken", svc, called)
		}
	}

	slices.Sort(rdsclientOps)
	slices.Sort(rdsclientConsts)
	if !slices.Equal(rdsclientOps, rdsclientConsts) {
		t.Errorf("rdsclient calls the SDK operations %v but its Action* constants are %v", rdsclientOps, rdsclientConsts)
	}

	missing, extra := diffActions(called, grantedActions(t))
	for _, a := range missing {
		t.Errorf("the shipped code calls %s (%s) but no policy variant grants it: add it to shared/tooling/rampolicy/policy*.json", a, strings.Join(all.actions[a], ", "))
	}
	for _, a := range extra {
		t.Errorf("the policy grants %s but no shipped code calls it: remove it from shared/tooling/rampolicy/policy*.json", a)
	}

	exported := append(append(append(slices.Clone(rampolicy.RDSActions), rampolicy.MNSActions...), rampolicy.OTSActions...), rampolicy.STSActions...)
	slices.Sort(exported)
	if !slices.Equal(exported, called) {
		t.Errorf("rampolicy.RDSActions and MNSActions say %v; the shipped code calls %v", exported, called)
	}
}

// TestSDKCallScanner shows the scan sees what it must: operations with and
// without WithOptions, interface methods, method values, and refuses what
// it cannot map; and that diffActions reports both directions.
func TestSDKCallScanner(t *testing.T) {
	b := shippedBuild(t)
	src := `package probe

import (
	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
	rds "github.com/alibabacloud-go/rds-20140815/v3/client"
	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
)

const listAction = "DescribeDBInstances"

// listParams names a constant action: its CallApi maps.
func listParams() *openapi.Params { return &openapi.Params{Action: tea.String(listAction), Style: tea.String("RPC")} }

// anyParams names the action it is given: its CallApi cannot map.
func anyParams(action string) *openapi.Params { return &openapi.Params{Action: tea.String(action)} }

// CreateTable is deploy-only when the package is shared/ledger.
func CreateTable(o *ots.TableStoreClient) { _, _ = o.CreateTable(nil) }

func probeOTS(o *ots.TableStoreClient, api ots.TableStoreApi) {
	_, _ = o.GetRow(nil)
	_, _ = api.UpdateRow(nil)
	ch := &ots.PutRowChange{}
	ch.AddColumn("state", "claimed")
	_, _ = o.ComputeSplits(nil)
	o.SetRetryNotify(nil)
}

func probe(cl *rds.Client, q ali_mns.AliMNSQueue, t ali_mns.AliMNSTopic, c ali_mns.MNSClient, rt *util.RuntimeOptions) {
	_, _ = cl.RestartDBInstanceWithOptions(nil, rt)
	_, _ = cl.DescribeRegions(nil)
	_, _ = cl.GetEndpoint(nil, nil, nil, nil, nil, nil, nil)
	del := q.DeleteMessage
	_ = del("receipt")
	_ = q.Name()
	_, _ = t.PublishMessage(ali_mns.MessagePublishRequest{})
	_, _ = cl.CallApi(nil, nil, rt)
	_, _ = cl.CallApi(listParams(), nil, rt)
	_, _ = cl.CallApi(anyParams("RestoreTable"), nil, rt)
	_, _ = c.Send(ali_mns.GET, nil, nil, "queues/q/messages")
}
`
	f, err := parser.ParseFile(b.fset, "probe.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	_, info, err := b.check("probe", []*ast.File{f})
	if err != nil {
		t.Fatal(err)
	}
	got := scan(b.fset, info, nil, callAPIActions([]*ast.File{f}, info))
	want := []string{"mns:DeleteMessage", "mns:PublishMessage", "ots:CreateTable", "ots:GetRow", "ots:UpdateRow", "rds:DescribeDBInstances", "rds:DescribeRegions", "rds:RestartDBInstance"}
	if a := slices.Sorted(maps.Keys(got.actions)); !slices.Equal(a, want) {
		t.Errorf("actions %v, want %v", a, want)
	}
	joined := strings.Join(got.unmapped, "\n")
	if len(got.unmapped) != 4 || strings.Count(joined, "OpenAPI method CallApi") != 2 || !strings.Contains(joined, "MNS SDK method Send") ||
		!strings.Contains(joined, "Tablestore SDK method ComputeSplits") {
		t.Errorf("unmapped %q, want Send, ComputeSplits and two CallApi (nil Params, Params of a variable action)", got.unmapped)
	}
	// In shared/ledger, CreateTable's body serves the deploy tooling.
	asLedger := scan(b.fset, info, deployOnlyBodies(module+"/shared/ledger", []*ast.File{f}), nil)
	if _, ok := asLedger.actions["ots:CreateTable"]; ok || len(asLedger.actions["ots:GetRow"]) != 1 {
		t.Errorf("deploy-only CreateTable: actions %v", slices.Sorted(maps.Keys(asLedger.actions)))
	}

	missing, extra := diffActions([]string{"mns:SendMessage", "rds:CreateBackup"}, []string{"mns:ReceiveMessage", "mns:SendMessage"})
	if !slices.Equal(missing, []string{"rds:CreateBackup"}) || !slices.Equal(extra, []string{"mns:ReceiveMessage"}) {
		t.Errorf("diffActions: missing %v, extra %v", missing, extra)
	}
}
