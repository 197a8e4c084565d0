package rampolicy

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

//go:embed policy.json
var queuePolicy []byte

//go:embed policy-topic.json
var topicPolicy []byte

// Variant says where outcomes are published.
type Variant string

// Variants.
const (
	Queue Variant = "queue" // outcomes with SendMessage to ${notifyQueue}
	Topic Variant = "topic" // outcomes with PublishMessage to ${notifyTopic}
)

// RDSActions are the RDS API actions the functions call.
var RDSActions = []string{
	"rds:CreateBackup",
	"rds:DescribeBackupTasks",
	"rds:DescribeBackups",
	"rds:DescribeDBInstanceAttribute",
	"rds:DescribeDBInstances",
	"rds:DescribeDatabases",
}

// MNSActions are the MNS actions the functions call (PublishMessage only in
// the Topic variant). The functions never read the work queue: its MNS
// trigger is an EventBridge event stream, which receives, deletes and
// changes the visibility of messages with EventBridge's own service-linked
// role, so ReceiveMessage, DeleteMessage and ChangeMessageVisibility are not
// granted.
var MNSActions = []string{
	"mns:SendMessage",
	"mns:BatchSendMessage",
	"mns:PublishMessage",
}

// OTSActions are the Tablestore actions the functions call: the ask
// ledger's row reads and conditional writes (shared/ledger: Claim is a
// PutRow then, when lost, GetRow; ClaimSending and the writes of asks
// running together are a BatchWriteRow; RecordJob, RecordOutcome, Renew,
// Release, Reopen and a takeover are UpdateRow; a run's steps are a
// GetRow then a conditional PutRow), on the ledger's table only. Not
// CreateTable: the deploy tooling makes the table with a deployer's key.
var OTSActions = []string{
	"ots:BatchWriteRow",
	"ots:GetRange",
	"ots:GetRow",
	"ots:PutRow",
	"ots:UpdateRow",
}

// STSActions are the STS actions the functions call: AssumeRole into the
// member role of each member account (plans across accounts, DESIGN.md
// §10; shared/memberauth). The templates grant it on the default role
// name, acs:ram::*:role/fc-rds-backup-member; HubAssumePolicy names the
// accounts and any role.
var STSActions = []string{"sts:AssumeRole"}

// Policy is a RAM policy document.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Policy.
type Statement struct {
	Effect    string                         `json:"Effect"`
	Action    []string                       `json:"Action"`
	Resource  []string                       `json:"Resource"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

// Actions returns every action the policy names, sorted, without repeats.
func (p Policy) Actions() []string {
	var out []string
	for _, s := range p.Statement {
		out = append(out, s.Action...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// Document returns the template of a variant (with its placeholders).
func Document(v Variant) ([]byte, error) {
	switch v {
	case Queue, "":
		return bytes.Clone(queuePolicy), nil
	case Topic:
		return bytes.Clone(topicPolicy), nil
	}
	return nil, fmt.Errorf("rampolicy: unknown variant %q (want queue or topic)", v)
}

var (
	placeholderRE = regexp.MustCompile(`\$\{([A-Za-z]+)\}`)
	valueRE       = regexp.MustCompile(`^[A-Za-z0-9*_-]+$`)
)

// Placeholders returns the names a variant needs, sorted.
func Placeholders(v Variant) ([]string, error) {
	doc, err := Document(v)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range placeholderRE.FindAllSubmatch(doc, -1) {
		out = append(out, string(m[1]))
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// Render returns the Queue variant with every ${name} replaced by
// vars[name]; see RenderVariant.
func Render(vars map[string]string) ([]byte, error) { return RenderVariant(Queue, vars) }

// RenderVariant returns a variant with its placeholders filled in. Every
// placeholder needs a value (region, account id, queue, topic, Tablestore
// instance or table name, or "*"), made of letters, digits, '-', '_' and
// '*'; names the variant does
// not use are ignored. The result is checked to be a valid policy.
func RenderVariant(v Variant, vars map[string]string) ([]byte, error) {
	doc, err := Document(v)
	if err != nil {
		return nil, err
	}
	names, _ := Placeholders(v)
	var missing, bad []string
	for _, n := range names {
		val, ok := vars[n]
		switch {
		case !ok || val == "":
			missing = append(missing, n)
		case !valueRE.MatchString(val):
			bad = append(bad, fmt.Sprintf("%s=%q", n, val))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("rampolicy: no value for %s", strings.Join(missing, ", "))
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("rampolicy: invalid value %s (letters, digits, '-', '_' or '*')", strings.Join(bad, ", "))
	}
	out := placeholderRE.ReplaceAllFunc(doc, func(m []byte) []byte {
		return []byte(vars[string(m[2:len(m)-1])])
	})
	if _, err := Parse(out); err != nil {
		return nil, err
	}
	return out, nil
}

// Parse decodes a policy strictly and checks RAM's shape: Version "1", at
// least one statement, each with Effect Allow or Deny, and namespaced
// actions ("service:Action") and resources.
func Parse(b []byte) (Policy, error) {
	var p Policy
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Policy{}, fmt.Errorf("rampolicy: %w", err)
	}
	if p.Version != "1" {
		return Policy{}, fmt.Errorf("rampolicy: Version %q, want \"1\"", p.Version)
	}
	if len(p.Statement) == 0 {
		return Policy{}, fmt.Errorf("rampolicy: no Statement")
	}
	for i, s := range p.Statement {
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return Policy{}, fmt.Errorf("rampolicy: Statement[%d].Effect %q, want Allow or Deny", i, s.Effect)
		}
		if len(s.Action) == 0 || len(s.Resource) == 0 {
			return Policy{}, fmt.Errorf("rampolicy: Statement[%d] needs Action and Resource", i)
		}
		for _, a := range s.Action {
			if svc, name, ok := strings.Cut(a, ":"); !ok || svc == "" || name == "" {
				return Policy{}, fmt.Errorf("rampolicy: Statement[%d].Action %q is not <service>:<Action>", i, a)
			}
		}
		for _, r := range s.Resource {
			if r != "*" && !strings.HasPrefix(r, "acs:") {
				return Policy{}, fmt.Errorf("rampolicy: Statement[%d].Resource %q is neither \"*\" nor an acs: ARN", i, r)
			}
		}
	}
	return p, nil
}
