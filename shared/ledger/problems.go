package ledger

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
)

// ProblemScope is the scope of problem rows: one row per outcome that
// refused, failed or deferred an ask on an instance (NoteProblem), for the
// report (GET /v1/report). Key ProblemKey: region, instance, the outcome's
// time as 13-digit unix milliseconds and the outcome's event id, so that
// one GetRange per instance lists its problems in time order. Columns:
// status, code, backupMethod, askedAt (unix ms), outcomeId. They share the
// asks' table and its TimeToLive (35 days).
const ProblemScope = "problem"

// Columns of a problem row (besides ColAskedAt and ColOutcomeID).
const (
	ColStatus       = "status"
	ColCode         = "code"
	ColBackupMethod = "backupMethod"
)

// maxProblemMs is the largest time a problem key holds: 13 digits of unix
// milliseconds (the year 2286).
const maxProblemMs = 9_999_999_999_999

// DefaultProblemLimit is Problems' limit when it is given none; MaxProblemLimit the most it returns.
const (
	DefaultProblemLimit = 100
	MaxProblemLimit     = 1000
)

// problemPage is the most rows one GetRange of Problems asks for.
const problemPage = 100

// Problem is one problem row: an outcome that refused, failed or deferred
// an ask on an instance.
type Problem struct {
	Region       string    // the instance's region
	Instance     string    // DBInstanceId
	At           time.Time // the outcome's time (kept to the millisecond)
	OutcomeID    string    // the outcome's event id (notify.EventID)
	Status       string    // rejected, failed, deferred
	Code         string    // the outcome's error code, if any
	BackupMethod string    // the ask's BackupMethod, if any
	AskedAt      time.Time // the ask's askedAt, if known
}

// ProblemKey is the key of a problem row.
func ProblemKey(region, instance string, at time.Time, outcomeID string) string {
	return problemPrefix(region, instance) + ms13(at) + "/" + outcomeID
}

func problemPrefix(region, instance string) string { return region + "/" + instance + "/" }

func ms13(t time.Time) string { return fmt.Sprintf("%013d", t.UnixMilli()) }

// checkPart: a part of a problem key, printable ASCII without spaces and
// without '/' (the key's separator).
func checkPart(field, s string, max int) error {
	if err := checkText(field, s, max, false, true); err != nil {
		return err
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return &ValidationError{Field: field, Rule: fmt.Sprintf("no '/'; byte %d is one", i)}
	}
	return nil
}

// checkProblemTarget checks the region and instance of a problem key.
func checkProblemTarget(region, instance string) error {
	return firstErr(checkPart("region", region, 64), checkPart("instance", instance, 64))
}

// Validate reports the first field of p that breaks a rule, naming the
// field and the rule (never the value); NoteProblem calls it before any
// Tablestore call.
func (p Problem) Validate() error {
	if err := firstErr(checkProblemTarget(p.Region, p.Instance), checkPart("outcomeId", p.OutcomeID, MaxDigest),
		checkText("status", p.Status, MaxValue, false, true), checkText("code", p.Code, MaxValue, false, false),
		checkText("backupMethod", p.BackupMethod, MaxValue, false, false)); err != nil {
		return err
	}
	if p.At.IsZero() {
		return &ValidationError{Field: "at", Rule: "required"}
	}
	if ms := p.At.UnixMilli(); ms < 0 || ms > maxProblemMs {
		return &ValidationError{Field: "at", Rule: "must be from 1970 to 2286 (13 digits of unix milliseconds)"}
	}
	if !p.AskedAt.IsZero() && p.AskedAt.Before(time.Unix(0, 0)) {
		return &ValidationError{Field: "askedAt", Rule: "must not be before 1970"}
	}
	return checkRowKey(ProblemScope, ProblemKey(p.Region, p.Instance, p.At, p.OutcomeID))
}

// NoteProblem records p: 1 PutRow (no condition: the same outcome noted
// again writes the same row).
func (l *Ledger) NoteProblem(ctx context.Context, p Problem) error {
	if err := p.Validate(); err != nil {
		return err
	}
	ch := &tablestore.PutRowChange{TableName: l.table, PrimaryKey: pk(ProblemScope, ProblemKey(p.Region, p.Instance, p.At, p.OutcomeID))}
	ch.AddColumn(ColStatus, p.Status)
	if p.Code != "" {
		ch.AddColumn(ColCode, p.Code)
	}
	if p.BackupMethod != "" {
		ch.AddColumn(ColBackupMethod, p.BackupMethod)
	}
	if !p.AskedAt.IsZero() {
		ch.AddColumn(ColAskedAt, p.AskedAt.UnixMilli())
	}
	ch.AddColumn(ColOutcomeID, p.OutcomeID)
	ch.SetCondition(tablestore.RowExistenceExpectation_IGNORE)
	return l.do(ctx, "PutRow", func() error {
		_, err := l.client.PutRow(&tablestore.PutRowRequest{PutRowChange: ch})
		return err
	})
}

// Problems lists the problems of an instance at or after since, oldest
// first: at most limit (DefaultProblemLimit when 0, at most
// MaxProblemLimit), the newest kept when there are more. GetRange
// BACKWARD from the newest row down to since, 1 call per page of 100 rows.
func (l *Ledger) Problems(ctx context.Context, region, instance string, since time.Time, limit int) ([]Problem, error) {
	if err := checkProblemTarget(region, instance); err != nil {
		return nil, err
	}
	switch {
	case limit < 0:
		return nil, &ValidationError{Field: "limit", Rule: "must not be negative"}
	case limit == 0:
		limit = DefaultProblemLimit
	case limit > MaxProblemLimit:
		limit = MaxProblemLimit
	}
	from := max(since.UnixMilli(), 0)
	if from > maxProblemMs {
		return nil, nil
	}
	prefix := problemPrefix(region, instance)
	// BACKWARD: from the inclusive start (past every key of the instance:
	// '~' sorts after every digit) down to the exclusive end, which every
	// key at since or later sorts after ("<since>/<id>" > "<since>").
	start, end := pk(ProblemScope, prefix+"~"), pk(ProblemScope, prefix+fmt.Sprintf("%013d", from))
	var out []Problem
	for start != nil && len(out) < limit {
		rows, next, err := l.getRange(ctx, start, end, tablestore.BACKWARD, min(limit-len(out), problemPage))
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			if p, ok := problemOf(region, instance, row); ok && len(out) < limit {
				out = append(out, p)
			}
		}
		start = next
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 { // oldest first
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// problemOf reads a problem row; ok is false for a row whose key is not a
// problem key of the instance (nothing else writes that scope).
func problemOf(region, instance string, row *tablestore.Row) (Problem, bool) {
	if row == nil || row.PrimaryKey == nil {
		return Problem{}, false
	}
	var key string
	for _, c := range row.PrimaryKey.PrimaryKeys {
		if c.ColumnName == ColKey {
			key, _ = c.Value.(string)
		}
	}
	rest, ok := strings.CutPrefix(key, problemPrefix(region, instance))
	if !ok {
		return Problem{}, false
	}
	msText, id, ok := strings.Cut(rest, "/")
	ms, err := strconv.ParseInt(msText, 10, 64)
	if !ok || err != nil || len(msText) != 13 {
		return Problem{}, false
	}
	p := Problem{Region: region, Instance: instance, At: time.UnixMilli(ms).UTC(), OutcomeID: id}
	for _, c := range row.Columns {
		switch v := c.Value.(type) {
		case string:
			switch c.ColumnName {
			case ColStatus:
				p.Status = v
			case ColCode:
				p.Code = v
			case ColBackupMethod:
				p.BackupMethod = v
			case ColOutcomeID:
				p.OutcomeID = v
			}
		case int64:
			if c.ColumnName == ColAskedAt {
				p.AskedAt = time.UnixMilli(v).UTC()
			}
		}
	}
	return p, true
}
