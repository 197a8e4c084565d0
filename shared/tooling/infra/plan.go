package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/mnsq"
)

// MNS limits and defaults the queues are held to (mnsq.MaxMessageBytes,
// mnsq.DefaultRetention).
const (
	maxMessageSize   = int32(mnsq.MaxMessageBytes)                // 65536: the functions send bodies up to 64 KiB
	retention        = int32(mnsq.DefaultRetention / time.Second) // 345600 s, 4 days: workqueue.MaxDelay is 3 days
	defaultVisTime   = int32(30)                                  // MNS's default
	visibilityMargin = int32(60)                                  // over the queue function's timeout: the batch window, EventBridge's push
)

// rule is one attribute of a queue: the value infra creates it with, and
// what an existing queue must have (want, or at least min when atLeast).
type rule struct {
	name    string
	get     func(ali_mns.QueueAttribute) int32
	create  int32
	min     int32
	atLeast bool
	why     string
}

func (r rule) ok(have int32) bool {
	if r.atLeast {
		return have >= r.min
	}
	return have == r.min
}

func (r rule) wantText() string {
	if r.atLeast {
		return fmt.Sprintf("at least %d", r.min)
	}
	return fmt.Sprint(r.min)
}

type queueSpec struct {
	role  string
	name  string
	rules []rule
}

// createAttrs are the attributes CreateQueue sends (delay and polling wait
// 0, MNS's defaults).
func (q queueSpec) createAttrs() (size, ret, vis int32) {
	size, ret, vis = maxMessageSize, retention, defaultVisTime
	for _, r := range q.rules {
		switch r.name {
		case "MaximumMessageSize":
			size = r.create
		case "MessageRetentionPeriod":
			ret = r.create
		case "VisibilityTimeout":
			vis = r.create
		}
	}
	return size, ret, vis
}

func (q queueSpec) createText() string {
	size, ret, vis := q.createAttrs()
	return fmt.Sprintf("MaximumMessageSize %d, MessageRetentionPeriod %d, VisibilityTimeout %d", size, ret, vis)
}

func sizeRule() rule {
	return rule{name: "MaximumMessageSize", get: func(a ali_mns.QueueAttribute) int32 { return a.MaxMessageSize },
		create: maxMessageSize, min: maxMessageSize, why: "the functions send messages up to 64 KiB"}
}

// queues are the three queues of s.yaml and what each must have.
func queues(o options) []queueSpec {
	timeout := int32(o.queueTimeout.Seconds())
	return []queueSpec{
		{role: "work", name: o.work, rules: []rule{
			sizeRule(),
			{name: "MessageRetentionPeriod", get: func(a ali_mns.QueueAttribute) int32 { return a.MessageRetentionPeriod },
				create: retention, min: retention, atLeast: true, why: "deferred asks wait up to 3 days"},
			{name: "VisibilityTimeout", get: func(a ali_mns.QueueAttribute) int32 { return a.VisibilityTimeout },
				create: timeout + visibilityMargin, min: timeout, atLeast: true, why: "a message in a running invocation must not be delivered again"},
		}},
		{role: "notify", name: o.notify, rules: []rule{sizeRule()}},
		{role: "dead-letter", name: o.deadLetter, rules: []rule{sizeRule()}},
	}
}

// tally counts the plan's lines.
type tally struct{ create, created, differ, match, failed int }

func plan(ctx context.Context, o options, k key, stdout, stderr io.Writer) int {
	var t tally
	if o.apply {
		fmt.Fprintln(stdout, "infra: creating what is missing; nothing that exists is changed or deleted")
	} else {
		fmt.Fprintln(stdout, "infra: dry run (APPLY=1, or -apply, creates what is missing; nothing that exists is ever changed or deleted)")
	}
	if o.only != "ledger" {
		m, err := newMNS(o.mnsEndpoint, k)
		if err != nil {
			fmt.Fprintf(stderr, "infra: %v\n", err)
			return exitFailed
		}
		for _, q := range queues(o) {
			planQueue(m, q, o.apply, stdout, stderr, &t)
		}
	}
	if o.only != "queues" {
		if o.ledgerEndpoint == "" {
			fmt.Fprintf(stdout, "%-6s %-32s skipped: no -ledger-endpoint (BACKUP_LEDGER_ENDPOINT): the functions run without the ask ledger\n", "table", o.table)
		} else {
			if o.syamlTable != "" && o.table != o.syamlTable {
				fmt.Fprintf(stdout, "note: -ledger-table %s is not s.yaml's vars.ledgerTable %s, which the functions use\n", o.table, o.syamlTable)
			}
			planTable(ctx, newOTS(o.ledgerEndpoint, o.instance, k), o, stdout, stderr, &t)
		}
	}
	switch {
	case o.apply:
		fmt.Fprintf(stdout, "infra: created %d, %d exist and match, %d differ, %d failed\n", t.created, t.match, t.differ, t.failed)
	default:
		fmt.Fprintf(stdout, "infra: %d to create, %d exist and match, %d differ, %d failed", t.create, t.match, t.differ, t.failed)
		if t.create > 0 {
			fmt.Fprint(stdout, "; run with APPLY=1 to create them")
		}
		fmt.Fprintln(stdout)
	}
	switch {
	case t.failed > 0:
		return exitFailed
	case t.differ > 0:
		fmt.Fprintln(stdout, "infra: what differs was left as it is: change it yourself (console, or delete and run again), or set the flag or s.yaml var to the name of a resource that fits")
		return exitDiffers
	}
	return exitOK
}

func planQueue(m ali_mns.AliQueueManager, q queueSpec, apply bool, stdout, stderr io.Writer, t *tally) {
	label := fmt.Sprintf("%-6s %-32s", "queue", q.name)
	attr, err := m.GetQueueAttributes(q.name)
	switch code := mnsq.Code(err); {
	case err == nil:
		reportQueue(label, q, attr, stdout, t)
		return
	case code != "QueueNotExist":
		fmt.Fprintf(stderr, "infra: %s queue %s: GetQueueAttributes: %s: %v\n", q.role, q.name, code, err)
		t.failed++
		return
	}
	if !apply {
		fmt.Fprintf(stdout, "%s would create (%s queue: %s)\n", label, q.role, q.createText())
		t.create++
		return
	}
	size, ret, vis := q.createAttrs()
	err = m.CreateQueue(q.name, 0, size, ret, vis, 0, 2)
	switch code := mnsq.Code(err); {
	case err == nil:
		fmt.Fprintf(stdout, "%s created (%s queue: %s)\n", label, q.role, q.createText())
		t.created++
	case code == "QueueAlreadyExist": // made by someone else meanwhile
		if attr, err := m.GetQueueAttributes(q.name); err == nil {
			reportQueue(label, q, attr, stdout, t)
			return
		}
		fallthrough
	default:
		fmt.Fprintf(stderr, "infra: %s queue %s: CreateQueue: %s: %v\n", q.role, q.name, code, err)
		t.failed++
	}
}

func reportQueue(label string, q queueSpec, attr ali_mns.QueueAttribute, stdout io.Writer, t *tally) {
	var diffs []string
	for _, r := range q.rules {
		if have := r.get(attr); !r.ok(have) {
			diffs = append(diffs, fmt.Sprintf("%s %d (want %s: %s)", r.name, have, r.wantText(), r.why))
		}
	}
	if len(diffs) == 0 {
		fmt.Fprintf(stdout, "%s exists, matches\n", label)
		t.match++
		return
	}
	fmt.Fprintf(stdout, "%s exists, DIFFERS: %s; left as it is\n", label, strings.Join(diffs, "; "))
	t.differ++
}

// wantTable is ledger.TableMeta's table in the form DescribeTable reads.
type tableShape struct {
	pk          []string // "scope STRING"
	ttl         int      // seconds, -1: never
	maxVersions int
}

func (s tableShape) String() string {
	return fmt.Sprintf("primary key %s; TimeToLive %d s; MaxVersions %d", strings.Join(s.pk, ", "), s.ttl, s.maxVersions)
}

func pkText(meta *tablestore.TableMeta) []string {
	var out []string
	for _, c := range meta.SchemaEntry {
		name, typ := "", "?"
		if c.Name != nil {
			name = *c.Name
		}
		if c.Type != nil {
			switch *c.Type {
			case tablestore.PrimaryKeyType_STRING:
				typ = "STRING"
			case tablestore.PrimaryKeyType_INTEGER:
				typ = "INTEGER"
			case tablestore.PrimaryKeyType_BINARY:
				typ = "BINARY"
			}
		}
		out = append(out, name+" "+typ)
	}
	return out
}

func planTable(ctx context.Context, c *tablestore.TableStoreClient, o options, stdout, stderr io.Writer, t *tally) {
	req, err := ledger.TableMeta(o.table, o.ttl)
	if err != nil { // checked in run
		fmt.Fprintf(stderr, "infra: %v\n", err)
		t.failed++
		return
	}
	want := tableShape{pk: pkText(req.TableMeta), ttl: req.TableOption.TimeToAlive, maxVersions: req.TableOption.MaxVersion}
	label := fmt.Sprintf("%-6s %-32s", "table", o.instance+"/"+o.table)
	describe := func() (*tablestore.DescribeTableResponse, string, error) {
		resp, err := c.DescribeTable(&tablestore.DescribeTableRequest{TableName: o.table})
		var oe *tablestore.OtsError
		if errors.As(err, &oe) {
			return nil, oe.Code, err
		}
		return resp, "", err
	}
	resp, code, err := describe()
	switch {
	case err == nil:
		reportTable(label, want, resp, stdout, t)
		return
	case code != "OTSObjectNotExist":
		fmt.Fprintf(stderr, "infra: ledger table %s on instance %s: DescribeTable: %v\n", o.table, o.instance, err)
		t.failed++
		return
	}
	if !o.apply {
		fmt.Fprintf(stdout, "%s would create (the ask ledger: %s)\n", label, want)
		t.create++
		return
	}
	err = ledger.CreateTable(ctx, c, o.table, o.ttl)
	var le *ledger.Error
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "%s created (the ask ledger: %s; ready in a few seconds)\n", label, want)
		t.created++
	case errors.As(err, &le) && le.Code == "OTSObjectAlreadyExist": // made by someone else meanwhile
		if resp, _, err := describe(); err == nil {
			reportTable(label, want, resp, stdout, t)
			return
		}
		fallthrough
	default:
		fmt.Fprintf(stderr, "infra: ledger table %s on instance %s: CreateTable: %v\n", o.table, o.instance, err)
		t.failed++
	}
}

func reportTable(label string, want tableShape, resp *tablestore.DescribeTableResponse, stdout io.Writer, t *tally) {
	var diffs []string
	if resp.TableMeta != nil {
		if pk := pkText(resp.TableMeta); !slices.Equal(pk, want.pk) {
			diffs = append(diffs, fmt.Sprintf("primary key %s (want %s: the ledger's rows cannot be written)", strings.Join(pk, ", "), strings.Join(want.pk, ", ")))
		}
	}
	if opt := resp.TableOption; opt != nil {
		if opt.TimeToAlive != want.ttl {
			diffs = append(diffs, fmt.Sprintf("TimeToLive %d s (want %d s, -ttl)", opt.TimeToAlive, want.ttl))
		}
		if opt.MaxVersion != want.maxVersions {
			diffs = append(diffs, fmt.Sprintf("MaxVersions %d (want %d)", opt.MaxVersion, want.maxVersions))
		}
	}
	if len(diffs) == 0 {
		fmt.Fprintf(stdout, "%s exists, matches\n", label)
		t.match++
		return
	}
	fmt.Fprintf(stdout, "%s exists, DIFFERS: %s; left as it is\n", label, strings.Join(diffs, "; "))
	t.differ++
}
