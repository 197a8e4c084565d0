package rampolicy

import (
	"bytes"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
)

var allVars = map[string]string{
	"region": "cn-shanghai", "accountId": "1234567890123456",
	"workQueue": "rds-backup-work", "notifyQueue": "rds-backup-outcomes",
	"deadLetterQueue": "rds-backup-dead", "notifyTopic": "rds-backup-outcomes",
	"ledgerInstance": "rds-asks", "ledgerTable": "rds_backup_asks",
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

// TestTemplatesAreRAMPolicies checks both embedded documents: valid JSON in
// RAM's format, every statement Allow with namespaced actions.
func TestTemplatesAreRAMPolicies(t *testing.T) {
	for _, v := range []Variant{Queue, Topic} {
		t.Run(string(v), func(t *testing.T) {
			doc, err := Document(v)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse(doc)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range p.Statement {
				if s.Effect != "Allow" {
					t.Errorf("Statement[%d] is %s", i, s.Effect)
				}
				for _, a := range s.Action {
					if !strings.HasPrefix(a, "rds:") && !strings.HasPrefix(a, "mns:") && !strings.HasPrefix(a, "ots:") && !strings.HasPrefix(a, "sts:") {
						t.Errorf("Statement[%d] action %q is neither rds:, mns:, ots: nor sts:", i, a)
					}
					if strings.Contains(a, "*") {
						t.Errorf("Statement[%d] action %q is a wildcard", i, a)
					}
				}
			}
		})
	}
}

// TestActionsAreExactlyWhatTheCodeUses: the two variants together grant
// exactly RDSActions, MNSActions and OTSActions, nothing more, nothing less.
func TestActionsAreExactlyWhatTheCodeUses(t *testing.T) {
	var granted []string
	perVariant := map[Variant][]string{}
	for _, v := range []Variant{Queue, Topic} {
		doc, _ := Document(v)
		p, err := Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		perVariant[v] = p.Actions()
		granted = append(granted, p.Actions()...)
	}
	sort.Strings(granted)
	granted = slices.Compact(granted)
	want := sorted(append(append(append(slices.Clone(RDSActions), MNSActions...), OTSActions...), STSActions...))
	if !slices.Equal(granted, want) {
		t.Fatalf("policies grant\n%v\nthe code uses\n%v", granted, want)
	}
	if slices.Contains(perVariant[Queue], "mns:PublishMessage") {
		t.Error("the queue variant grants mns:PublishMessage")
	}
	if !slices.Contains(perVariant[Topic], "mns:PublishMessage") {
		t.Error("the topic variant lacks mns:PublishMessage")
	}
	for _, a := range append(slices.Clone(RDSActions), OTSActions...) {
		for _, v := range []Variant{Queue, Topic} {
			if !slices.Contains(perVariant[v], a) {
				t.Errorf("variant %s lacks %s", v, a)
			}
		}
	}
}

func TestResources(t *testing.T) {
	doc, _ := Render(allVars)
	p, _ := Parse(doc)
	byAction := map[string][]string{}
	for _, s := range p.Statement {
		for _, a := range s.Action {
			byAction[a] = append(byAction[a], s.Resource...)
		}
	}
	tests := []struct {
		action string
		want   []string
	}{
		{"rds:CreateBackup", []string{"acs:rds:*:*:dbinstance/*"}},
		{"rds:DescribeDatabases", []string{"acs:rds:*:*:dbinstance/*"}},
		{"rds:DescribeDBInstances", []string{"*"}},
		{"mns:BatchSendMessage", []string{"acs:mns:cn-shanghai:1234567890123456:/queues/rds-backup-work", "acs:mns:cn-shanghai:1234567890123456:/queues/rds-backup-work/messages"}},
		{"mns:ReceiveMessage", nil}, // EventBridge reads the work queue with its own role
		// The ledger's table only, and no table management.
		{"ots:GetRange", []string{"acs:ots:*:*:instance/rds-asks/table/rds_backup_asks"}},
		{"ots:BatchWriteRow", []string{"acs:ots:*:*:instance/rds-asks/table/rds_backup_asks"}},
		{"ots:DeleteRow", nil}, // a send marker is forgotten in a BatchWriteRow
		{"ots:GetRow", []string{"acs:ots:*:*:instance/rds-asks/table/rds_backup_asks"}},
		{"ots:PutRow", []string{"acs:ots:*:*:instance/rds-asks/table/rds_backup_asks"}},
		{"ots:UpdateRow", []string{"acs:ots:*:*:instance/rds-asks/table/rds_backup_asks"}},
		{"ots:CreateTable", nil},
		{"ots:DeleteTable", nil},
		{"mns:SendMessage", []string{
			"acs:mns:cn-shanghai:1234567890123456:/queues/rds-backup-work", "acs:mns:cn-shanghai:1234567890123456:/queues/rds-backup-work/messages",
			"acs:mns:cn-shanghai:1234567890123456:/queues/rds-backup-outcomes", "acs:mns:cn-shanghai:1234567890123456:/queues/rds-backup-outcomes/messages",
			"acs:mns:cn-shanghai:1234567890123456:/queues/rds-backup-dead", "acs:mns:cn-shanghai:1234567890123456:/queues/rds-backup-dead/messages"}},
	}
	for _, tt := range tests {
		if got := sorted(byAction[tt.action]); !slices.Equal(got, sorted(tt.want)) {
			t.Errorf("%s on %v, want %v", tt.action, got, tt.want)
		}
	}
	for _, s := range p.Statement {
		for _, a := range s.Action {
			if strings.HasPrefix(a, "ots:") && len(s.Action) != len(OTSActions) {
				t.Errorf("the ots statement grants %v with other actions", s.Action)
			}
		}
	}
	topicDoc, _ := RenderVariant(Topic, allVars)
	if !bytes.Contains(topicDoc, []byte(`"acs:ots:*:*:instance/rds-asks/table/rds_backup_asks"`)) {
		t.Errorf("topic variant lacks the ledger's table:\n%s", topicDoc)
	}
	if !bytes.Contains(topicDoc, []byte(`"acs:mns:cn-shanghai:1234567890123456:/topics/rds-backup-outcomes/messages"`)) {
		t.Errorf("topic variant:\n%s", topicDoc)
	}
	if bytes.Contains(topicDoc, []byte("/queues/rds-backup-outcomes")) {
		t.Error("topic variant grants the notify queue")
	}
}

func TestRender(t *testing.T) {
	without := func(k string) map[string]string {
		m := map[string]string{}
		for kk, v := range allVars {
			if kk != k {
				m[kk] = v
			}
		}
		return m
	}
	with := func(k, v string) map[string]string {
		m := without(k)
		m[k] = v
		return m
	}
	tests := []struct {
		name    string
		v       Variant
		vars    map[string]string
		wantErr string
	}{
		{"queue", Queue, allVars, ""},
		{"topic", Topic, allVars, ""},
		{"wildcards", Queue, with("region", "*"), ""},
		{"queue ignores notifyTopic", Queue, without("notifyTopic"), ""},
		{"missing work queue", Queue, without("workQueue"), "no value for workQueue"},
		{"missing ledger instance", Queue, without("ledgerInstance"), "no value for ledgerInstance"},
		{"missing ledger table", Topic, without("ledgerTable"), "no value for ledgerTable"},
		{"ledger table injection", Queue, with("ledgerTable", `t"],"Action":["ots:*`), "invalid value ledgerTable"},
		{"topic needs notifyTopic", Topic, without("notifyTopic"), "no value for notifyTopic"},
		{"empty value", Queue, with("accountId", ""), "no value for accountId"},
		{"injection", Queue, with("workQueue", `q"],"Resource":["*`), "invalid value workQueue"},
		{"nothing", Queue, nil, "no value for accountId, deadLetterQueue, ledgerInstance, ledgerTable, notifyQueue, region, workQueue"},
		{"unknown variant", "sqs", allVars, "unknown variant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := RenderVariant(tt.v, tt.vars)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("RenderVariant = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(out, []byte("${")) {
				t.Fatalf("unresolved placeholder:\n%s", out)
			}
		})
	}
	got, _ := Placeholders(Topic)
	if strings.Join(got, ",") != "accountId,deadLetterQueue,ledgerInstance,ledgerTable,notifyTopic,region,workQueue" {
		t.Fatalf("Placeholders(Topic) = %v", got)
	}
	if _, err := Placeholders("x"); err == nil {
		t.Fatal("Placeholders(x) = nil")
	}
	a, _ := Render(allVars)
	b, _ := RenderVariant(Queue, allVars)
	if !bytes.Equal(a, b) {
		t.Fatal("Render is not the queue variant")
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"not json", `{`, "rampolicy"},
		{"unknown key", `{"Version":"1","Statement":[],"Extra":1}`, "unknown field"},
		{"version", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["rds:X"],"Resource":["*"]}]}`, `Version "2012-10-17"`},
		{"no statement", `{"Version":"1","Statement":[]}`, "no Statement"},
		{"effect", `{"Version":"1","Statement":[{"Effect":"allow","Action":["rds:X"],"Resource":["*"]}]}`, "Effect"},
		{"no action", `{"Version":"1","Statement":[{"Effect":"Allow","Action":[],"Resource":["*"]}]}`, "needs Action and Resource"},
		{"no resource", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["rds:X"]}]}`, "needs Action and Resource"},
		{"not namespaced", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["CreateBackup"],"Resource":["*"]}]}`, "not <service>:<Action>"},
		{"bad resource", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["rds:X"],"Resource":["arn:aws:rds:*"]}]}`, "acs: ARN"},
	}
	for _, tt := range tests {
		if _, err := Parse([]byte(tt.doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Parse = %v, want %q", tt.name, err, tt.want)
		}
	}
	cond := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["rds:CreateBackup"],"Resource":["acs:rds:*:*:dbinstance/*"],"Condition":{"StringEquals":{"rds:ResourceTag/backup":["enabled"]}}}]}`
	if _, err := Parse([]byte(cond)); err != nil {
		t.Errorf("Parse(with Condition) = %v", err)
	}
}

// TestRAMDoc keeps RAM.md in step with the policy: it shows the queue
// variant template verbatim and names every action.
func TestRAMDoc(t *testing.T) {
	doc, err := os.ReadFile("RAM.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, queuePolicy) {
		t.Error("RAM.md does not contain policy.json verbatim")
	}
	for _, a := range append(append(slices.Clone(RDSActions), MNSActions...), OTSActions...) {
		if !bytes.Contains(doc, []byte("`"+a+"`")) {
			t.Errorf("RAM.md does not explain %s", a)
		}
	}
}
