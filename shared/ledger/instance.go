package ledger

import (
	"context"
	"strings"
	"time"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
)

// InstanceScope is the scope of the rows that name, per instance and
// backup method, the latest job the product made (NoteInstanceJob). They
// share the asks' table; their key is InstanceKey's.
const InstanceScope = "instance"

// InstanceKey is the key of an instance row: region, instance and method.
func InstanceKey(region, instance, method string) string {
	return region + "/" + instance + "/" + method
}

// NoteInstanceJob records jobID, created (or seen running) at created, as
// the latest backup job the product made or joined on the instance with
// the method of key (InstanceKey): 1 UpdateRow, on the condition that the
// row notes no later job (RDS runs one backup of an instance at a time, so
// the later one is the latest); a note older than the row's is dropped
// silently. Another ask that finds no running job and no listed set reads
// it (LastInstanceJob): a job that ended while RDS does not list its set
// yet is then still known (DESIGN.md §2a, across asks).
func (l *Ledger) NoteInstanceJob(ctx context.Context, key, jobID string, created time.Time) error {
	if err := firstErr(checkRowKey(InstanceScope, key), checkText("jobId", jobID, MaxID, false, true)); err != nil {
		return err
	}
	cond := tablestore.NewSingleColumnCondition(ColClaimedAt, tablestore.CT_LESS_EQUAL, created.UnixMilli())
	cond.FilterIfMissing, cond.LatestVersionOnly = false, true
	ch := &tablestore.UpdateRowChange{TableName: l.table, PrimaryKey: pk(InstanceScope, key)}
	ch.SetCondition(tablestore.RowExistenceExpectation_IGNORE)
	ch.SetColumnCondition(cond)
	ch.PutColumn(ColJobID, jobID)
	ch.PutColumn(ColClaimedAt, created.UnixMilli())
	ch.PutColumn(ColUpdatedAt, l.clock().UnixMilli())
	err := l.do(ctx, "UpdateRow", func() error {
		_, err := l.client.UpdateRow(&tablestore.UpdateRowRequest{UpdateRowChange: ch})
		return err
	})
	if isConditionFail(err) {
		return nil // a later job is noted already
	}
	return err
}

// LastInstanceJob reads the latest job NoteInstanceJob recorded for key:
// 1 GetRow. found is false when none is recorded (or it expired).
func (l *Ledger) LastInstanceJob(ctx context.Context, key string) (jobID string, created time.Time, found bool, err error) {
	r, found, err := l.Get(ctx, InstanceScope, key)
	if err != nil || !found || r.JobID == "" {
		return "", time.Time{}, false, err
	}
	return r.JobID, r.ClaimedAt, true, nil
}

// sendSep joins an instance key and an owner in a send marker's key
// (InstanceKey + "|" + owner, in InstanceScope: an instance's markers sit
// beside its rows, so ReadInstance reads both in one GetRange); it sorts
// after every byte an InstanceKey or owner holds ('|' is 0x7C).
const sendSep = "|"

// markerKey is the key of owner's send marker for key (InstanceKey).
func markerKey(key, owner string) string { return key + sendSep + owner }

// maxInstancePages bounds the pages ReadInstance reads (100 rows a page:
// the instance's rows of each method and its open send markers).
const maxInstancePages = 10

// Send is an open send marker: owner (a delivery) sent, or was about to
// send, a CreateBackup at At.
type Send struct {
	Owner string
	At    time.Time
}

// InstanceJob is the latest job NoteInstanceJob recorded for a method:
// its id and when it was created (or seen running).
type InstanceJob struct {
	JobID   string
	Created time.Time
}

// InstanceView is what the ledger holds of one instance, by backup method
// (InstanceKey's last part): the latest job of each method and the send
// markers not forgotten yet.
type InstanceView struct {
	Jobs  map[string]InstanceJob
	Sends map[string][]Send
}

// ReadInstance reads what the ledger holds of instance in region: its
// instance rows of every method and their send markers, which share one
// key range (region/instance/...), in one GetRange (a page of 100 rows; a
// second only with some 96 markers open at once). A look that found no
// running job and no listed set needs all of it (DESIGN.md §2a, across
// asks): one read instead of one per row.
func (l *Ledger) ReadInstance(ctx context.Context, region, instance string) (InstanceView, error) {
	for _, f := range []struct {
		name, v  string
		required bool
	}{{"region", region, false}, {"instance", instance, true}} { // as InstanceKey: the region may be empty
		if err := checkText(f.name, f.v, MaxValue, false, f.required); err != nil {
			return InstanceView{}, err
		}
		if strings.Contains(f.v, "/") {
			return InstanceView{}, &ValidationError{Field: f.name, Rule: "no '/' (it separates an instance key's parts)"}
		}
	}
	prefix := InstanceKey(region, instance, "")
	if err := checkRowKey(InstanceScope, prefix); err != nil {
		return InstanceView{}, err
	}
	// The range ends before the next byte after the prefix's last '/':
	// "cn-x/rm-a/" .. "cn-x/rm-a0" holds rm-a's keys and no other
	// instance's (ids hold no '/'; "rm-a-b/" sorts before, "rm-ab/" after).
	start, end := pk(InstanceScope, prefix), pk(InstanceScope, strings.TrimSuffix(prefix, "/")+"0")
	v := InstanceView{Jobs: map[string]InstanceJob{}, Sends: map[string][]Send{}}
	for page := 0; page < maxInstancePages && start != nil; page++ {
		rows, next, err := l.getRange(ctx, start, end, tablestore.FORWARD, 100)
		if err != nil {
			return InstanceView{}, err
		}
		for _, row := range rows {
			key := keyOf(row)
			rest, ok := strings.CutPrefix(key, prefix)
			if !ok {
				continue
			}
			method, _, marker := strings.Cut(rest, sendSep)
			var jobID, lease string
			var at, created time.Time
			for _, c := range row.Columns {
				switch val := c.Value.(type) {
				case string:
					switch c.ColumnName {
					case ColJobID:
						jobID = val
					case ColLeaseOwner:
						lease = val
					}
				case int64:
					switch c.ColumnName {
					case ColSentAt:
						at = time.UnixMilli(val).UTC()
					case ColClaimedAt:
						created = time.UnixMilli(val).UTC()
					}
				}
			}
			switch {
			case marker && lease != "" && !at.IsZero():
				v.Sends[method] = append(v.Sends[method], Send{Owner: lease, At: at})
			case !marker && jobID != "":
				v.Jobs[method] = InstanceJob{JobID: jobID, Created: created}
			}
		}
		start = next
	}
	return v, nil
}

// keyOf is a row's key (its second primary-key column).
func keyOf(row *tablestore.Row) string {
	if row.PrimaryKey == nil {
		return ""
	}
	for _, c := range row.PrimaryKey.PrimaryKeys {
		if c.ColumnName == ColKey {
			if k, ok := c.Value.(string); ok {
				return k
			}
		}
	}
	return ""
}

// NoteInstanceSend records, just before a CreateBackup of the method of
// key (InstanceKey) goes out, that owner is sending it at at: 1 PutRow of
// the owner's own marker row. Until the owner forgets it (the send was
// refused, or what it made is known), another ask that finds no running
// job and no listed set learns from it that a job RDS does not list yet
// may exist — the sender may have got no answer and died, or may still be
// looking (DESIGN.md §2a, across asks).
func (l *Ledger) NoteInstanceSend(ctx context.Context, key, owner string, at time.Time) error {
	if err := firstErr(checkRowKey(InstanceScope, key), checkText("owner", owner, MaxOwner, false, true)); err != nil {
		return err
	}
	if err := checkRowKey(InstanceScope, markerKey(key, owner)); err != nil {
		return err
	}
	ch := l.markerPut(key, owner, at, l.clock())
	return l.do(ctx, "PutRow", func() error {
		_, err := l.client.PutRow(&tablestore.PutRowRequest{PutRowChange: ch})
		return err
	})
}

// markerPut is the PutRow of owner's send marker for key: sent at at,
// written at now.
func (l *Ledger) markerPut(key, owner string, at, now time.Time) *tablestore.PutRowChange {
	ch := &tablestore.PutRowChange{TableName: l.table, PrimaryKey: pk(InstanceScope, markerKey(key, owner))}
	ch.AddColumn(ColLeaseOwner, owner)
	ch.AddColumn(ColSentAt, at.UnixMilli())
	ch.AddColumn(ColUpdatedAt, now.UnixMilli())
	ch.SetCondition(tablestore.RowExistenceExpectation_IGNORE)
	return ch
}

// forgetQuietly deletes owner's send marker for key when nothing was sent
// under it, best effort, even after ctx ended (a claim's context may have
// ended its call): one left behind only makes other asks wait.
func (l *Ledger) forgetQuietly(ctx context.Context, key, owner string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), forgetTimeout)
	defer cancel()
	_ = l.ForgetInstanceSend(ctx, key, owner)
}

// forgetTimeout bounds forgetQuietly.
const forgetTimeout = 3 * time.Second

// ForgetInstanceSend deletes owner's send marker for key: one row of a
// BatchWriteRow, with the writes of other asks of the moment.
func (l *Ledger) ForgetInstanceSend(ctx context.Context, key, owner string) error {
	if err := firstErr(checkRowKey(InstanceScope, key), checkText("owner", owner, MaxOwner, false, true)); err != nil {
		return err
	}
	if err := checkRowKey(InstanceScope, markerKey(key, owner)); err != nil {
		return err
	}
	ch := &tablestore.DeleteRowChange{TableName: l.table, PrimaryKey: pk(InstanceScope, markerKey(key, owner))}
	ch.SetCondition(tablestore.RowExistenceExpectation_IGNORE)
	// With the writes of other asks of the moment (combine.go): a fleet's
	// throttled CreateBackups each forget their marker.
	res, err := l.batch(ctx, "ForgetInstanceSend", ch)
	if err != nil {
		return err
	}
	if !res[0].IsSucceed {
		return rowError("ForgetInstanceSend", l.table, res[0].Error)
	}
	return nil
}

// InstanceSends reads every send marker of key (InstanceKey) not forgotten
// yet: ReadInstance's markers of key's method.
func (l *Ledger) InstanceSends(ctx context.Context, key string) ([]Send, error) {
	if err := checkRowKey(InstanceScope, key); err != nil {
		return nil, err
	}
	parts := strings.SplitN(key, "/", 3)
	if len(parts) != 3 {
		return nil, &ValidationError{Field: "key", Rule: "must be an InstanceKey: region/instance/method"}
	}
	v, err := l.ReadInstance(ctx, parts[0], parts[1])
	if err != nil {
		return nil, err
	}
	return v.Sends[parts[2]], nil
}
