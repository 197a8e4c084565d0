package ledger

import (
	"context"
	"time"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/groupcommit"
)

// Primary key and attribute column names of a ledger row.
const (
	ColScope      = "scope" // PK 1, STRING
	ColKey        = "key"   // PK 2, STRING
	ColAskedAt    = "askedAt"
	ColDigest     = "digest"
	ColMethod     = "method"
	ColTarget     = "target"
	ColState      = "state"
	ColLeaseOwner = "leaseOwner"
	ColLeaseUntil = "leaseUntil"
	ColJobID      = "jobId"
	ColOutcomeID  = "outcomeId"
	ColRunID      = "runId"
	ColClaimedAt  = "claimedAt"
	ColUpdatedAt  = "updatedAt"
	ColSentAt     = "sentAt"
)

// State is where an ask is.
type State string

const (
	StateClaimed State = "claimed" // a delivery holds the lease and has made no job yet
	StateActing  State = "acting"  // the ask has a job (RecordJob)
	StateDone    State = "done"    // the ask has its terminal outcome id (RecordOutcome)
)

// DefaultTTL is how long a row lives after its last write (the table's
// TimeToLive): longer than any redelivery, retry or replay the product
// accepts (DESIGN.md §2a).
const DefaultTTL = 35 * 24 * time.Hour

// DefaultLease is how long a claim holds the row against other deliveries.
//
// A live holder cannot act after its invocation ends, so a lease at least
// as long as the longest function timeout (120 s in s.yaml) makes a
// takeover safe: whoever holds an expired lease is dead, never merely slow.
// The 30 s above it cover the clock skew between FC hosts (the holder writes
// leaseUntil by its clock, the next delivery compares by its own) and the
// ledger calls themselves. It also covers one RDS call with its retries,
// which an invocation's deadline bounds anyway. EventBridge retries (10–20 s
// apart) fall inside the lease: they find it live and are deferred through
// the work queue until Row.LeaseUntil, never run at once; only a delivery
// that died waits the whole lease out. Raise it (WithLease) with any
// function timeout.
const DefaultLease = 150 * time.Second

// Ask is what Claim records: which ask (scope and key), what it asks for
// (digest, method, target), when it was made, and who claims it.
type Ask struct {
	Scope   string    // the caller's scope, e.g. "route:demo-pipeline", "mns:rds-backup-work"
	Key     string    // the idempotency key
	Digest  string    // the request digest, computed by the caller: the same key with another digest is ErrConflict
	Method  string    // the backup method a job of this ask makes (what the job satisfies)
	Target  string    // the backup's scope: instance, database, strategy
	AskedAt time.Time // DESIGN.md §2: the same through every redelivery
	Owner   string    // this delivery attempt, unique per attempt (e.g. the FC request id): the lease holder
	RunID   string    // the plan run the ask belongs to, if any
}

// Row is a ledger row as read.
type Row struct {
	Scope, Key string
	AskedAt    time.Time
	Digest     string
	Method     string
	Target     string
	State      State
	LeaseOwner string
	LeaseUntil time.Time
	JobID      string
	OutcomeID  string
	RunID      string
	ClaimedAt  time.Time
	UpdatedAt  time.Time
	// SentAt: when the lease holder last said it was sending CreateBackup
	// (MarkSending); zero: no CreateBackup of this ask was sent, as far as
	// the row knows. A delivery that dies after it leaves a job the row
	// does not name, which RDS may not list yet.
	SentAt time.Time
}

// LeaseLive reports whether the row's lease runs at now.
func (r Row) LeaseLive(now time.Time) bool { return now.Before(r.LeaseUntil) }

// Claim is what Claim found.
type Claim struct {
	// Won: this delivery holds the row and may act (CreateBackup, after
	// looking first when TakenOver or when the ask is old).
	Won bool
	// TakenOver: won from a delivery whose lease expired without a job
	// (it died between its claim and its job): it may have called RDS, so
	// look before creating (DESIGN.md §2).
	TakenOver bool
	// Resumed: the row was already this Owner's, its lease live (an
	// earlier try of this very claim was written but its answer lost).
	Resumed bool
	// Busy: another delivery holds a live lease and has no job yet: defer
	// until Row.LeaseUntil.
	Busy bool
	// Sending (ClaimSending only): the new row says this delivery is
	// sending CreateBackup (Row.SentAt, the claim's time) and its send
	// marker is written: what SendBegin would write, written with the
	// claim. False when won otherwise (resumed, taken over, the marker
	// refused): SendBegin before the send, as after Claim.
	Sending bool
	// Row: the row as written (won) or as read (lost). When lost and not
	// Busy, Row.JobID or Row.OutcomeID says what the ask already has.
	Row Row
}

// Ledger records asks in one Tablestore table. Safe for concurrent use.
type Ledger struct {
	client *tablestore.TableStoreClient
	table  string
	clock  func() time.Time
	lease  time.Duration

	inFlight int                                                       // WithWritesInFlight
	writes   *groupcommit.Combiner[writeGroup, []tablestore.RowResult] // the hot path's writes, combined (combine.go)
}

// Option configures a Ledger.
type Option func(*Ledger)

// WithClock sets the ledger's clock (lease expiry, askedAt aside: claimedAt,
// updatedAt). Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(l *Ledger) {
		if now != nil {
			l.clock = now
		}
	}
}

// WithLease sets the lease a claim or takeover takes (default DefaultLease).
func WithLease(d time.Duration) Option {
	return func(l *Ledger) {
		if d > 0 {
			l.lease = d
		}
	}
}

// New returns a ledger on table through client. Give client ClientConfig()
// so that the caller owns the retries (see doc.go). New makes no call.
func New(client *tablestore.TableStoreClient, table string, opts ...Option) *Ledger {
	l := &Ledger{client: client, table: table, clock: time.Now, lease: DefaultLease, inFlight: DefaultWritesInFlight}
	for _, o := range opts {
		o(l)
	}
	l.writes = l.newWrites()
	return l
}

// Table is the table's name.
func (l *Ledger) Table() string { return l.table }

// Lease is the lease a claim takes.
func (l *Ledger) Lease() time.Duration { return l.lease }

// maxClaimRounds bounds Claim's put-then-read rounds when the row vanishes
// or is replaced between two calls.
const maxClaimRounds = 3

// Claim claims the ask's row for a.Owner (DESIGN.md §2a "claim, then act").
// Calls: 1 PutRow when the key is new; PutRow + GetRow for a repeat; + 1
// UpdateRow to take over an expired lease without a job, + 1 GetRow when
// that takeover loses its race.
func (l *Ledger) Claim(ctx context.Context, a Ask) (Claim, error) {
	if err := a.Validate(); err != nil {
		return Claim{}, err
	}
	for round := 0; round < maxClaimRounds; round++ {
		now := l.clock()
		row := l.newRow(a, now)
		err := l.claimPut(ctx, row)
		if err == nil {
			return Claim{Won: true, Row: row}, nil
		}
		if !isConditionFail(err) {
			return Claim{}, err
		}
		c, again, err := l.judgeRepeat(ctx, a, now)
		if !again {
			return c, err
		}
	}
	return Claim{}, &contendedError{scope: a.Scope, key: a.Key}
}

// ClaimSending is Claim for a delivery that sends CreateBackup as soon as
// it wins (a fresh ask: nothing to look for first). The new row says a
// send is on its way (SentAt, the claim's time) and owner's send marker
// for instKey (InstanceKey) is written beside it, in one BatchWriteRow:
// the claim and SendBegin of a fresh ask in one round trip instead of two.
// Claim.Sending says both were written. Lost (the key is a repeat): the
// marker is deleted again and the repeat judged as Claim judges it, from
// a GetRow; a delivery that then wins (resumed, taken over) calls
// SendBegin before it sends, as after Claim. A marker that cannot be
// deleted (nor one whose call failed) makes other asks of the method
// wait at most the set lag past it, as any marker left behind. Calls: 1
// BatchWriteRow when the key is new; a repeat adds the delete to Claim's.
func (l *Ledger) ClaimSending(ctx context.Context, a Ask, instKey string) (Claim, error) {
	if err := firstErr(a.Validate(), checkRowKey(InstanceScope, instKey), checkRowKey(InstanceScope, markerKey(instKey, a.Owner))); err != nil {
		return Claim{}, err
	}
	now := l.clock()
	row := l.newRow(a, now)
	row.SentAt = row.ClaimedAt
	res, err := l.batch(ctx, "ClaimSending", l.putChange(row, tablestore.RowExistenceExpectation_EXPECT_NOT_EXIST, nil),
		l.markerPut(instKey, a.Owner, now, now))
	if err != nil {
		l.forgetQuietly(ctx, instKey, a.Owner)
		return Claim{}, err
	}
	if res[0].IsSucceed {
		return Claim{Won: true, Sending: res[1].IsSucceed, Row: row}, nil
	}
	if res[1].IsSucceed {
		l.forgetQuietly(ctx, instKey, a.Owner)
	}
	if res[0].Error.Code != codeConditionCheckFail {
		return Claim{}, rowError("PutRow", l.table, res[0].Error)
	}
	c, again, err := l.judgeRepeat(ctx, a, now)
	if !again {
		return c, err
	}
	return l.Claim(ctx, a)
}

// judgeRepeat reads the row of an ask whose claim was lost and judges it.
// again: the row vanished or changed under the decision; claim again.
func (l *Ledger) judgeRepeat(ctx context.Context, a Ask, now time.Time) (c Claim, again bool, err error) {
	got, found, err := l.Get(ctx, a.Scope, a.Key)
	if err != nil {
		return Claim{}, false, err
	}
	if !found {
		return Claim{}, true, nil // expired by TTL between the two calls
	}
	return l.judge(ctx, a, got, now)
}

// judge decides a lost claim from the row read. again: the row changed
// under the decision; claim again.
func (l *Ledger) judge(ctx context.Context, a Ask, r Row, now time.Time) (c Claim, again bool, err error) {
	switch {
	case r.Digest == "":
		// A remnant: the claim's cells expired by TTL before the cells a
		// later write made (TTL counts per cell), so the ask it recorded is
		// gone. Replace it, on the condition that it still has no digest.
		row := l.newRow(a, now)
		cond := tablestore.NewSingleColumnCondition(ColDigest, tablestore.CT_EQUAL, "")
		cond.FilterIfMissing, cond.LatestVersionOnly = false, true
		err := l.put(ctx, row, tablestore.RowExistenceExpectation_EXPECT_EXIST, cond)
		if err == nil {
			return Claim{Won: true, Row: row}, false, nil
		}
		if isConditionFail(err) {
			return Claim{}, true, nil
		}
		return Claim{}, false, err
	case r.Digest != a.Digest:
		return Claim{Row: r}, false, &ConflictError{Scope: a.Scope, Key: a.Key, Recorded: r.Digest, Requested: a.Digest}
	case r.JobID != "" || r.OutcomeID != "":
		return Claim{Row: r}, false, nil
	case r.LeaseOwner == a.Owner && r.LeaseLive(now):
		// Its own expired lease goes on to a takeover like anyone's: it
		// renews the lease only if nobody took it meanwhile.
		return Claim{Won: true, Resumed: true, Row: r}, false, nil
	case r.LeaseLive(now):
		return Claim{Busy: true, Row: r}, false, nil
	}
	return l.takeOver(ctx, a, r, now)
}

// takeOver takes an expired lease without a job: an UpdateRow whose
// condition is that the lease is still the one read and the row still has
// no job and no outcome. Lost → GetRow, the fresh row.
func (l *Ledger) takeOver(ctx context.Context, a Ask, r Row, now time.Time) (Claim, bool, error) {
	until := now.Add(l.lease)
	cond := tablestore.NewCompositeColumnCondition(tablestore.LO_AND)
	cond.AddFilter(mustEqual(ColLeaseOwner, r.LeaseOwner))
	cond.AddFilter(mustEqual(ColLeaseUntil, r.LeaseUntil.UnixMilli()))
	cond.AddFilter(missingOr(ColJobID, ""))
	cond.AddFilter(missingOr(ColOutcomeID, ""))
	ch := l.update(a.Scope, a.Key, cond)
	ch.PutColumn(ColLeaseOwner, a.Owner)
	ch.PutColumn(ColLeaseUntil, until.UnixMilli())
	ch.PutColumn(ColState, string(StateClaimed))
	ch.PutColumn(ColUpdatedAt, now.UnixMilli())
	if a.RunID != "" {
		ch.PutColumn(ColRunID, a.RunID)
	}
	err := l.do(ctx, "UpdateRow", func() error {
		_, err := l.client.UpdateRow(&tablestore.UpdateRowRequest{UpdateRowChange: ch})
		return err
	})
	if err == nil {
		r.LeaseOwner, r.LeaseUntil, r.State, r.UpdatedAt = a.Owner, toMs(until), StateClaimed, toMs(now)
		if a.RunID != "" {
			r.RunID = a.RunID
		}
		return Claim{Won: true, TakenOver: true, Row: r}, false, nil
	}
	if !isConditionFail(err) {
		return Claim{}, false, err
	}
	fresh, found, err := l.Get(ctx, a.Scope, a.Key)
	if err != nil {
		return Claim{}, false, err
	}
	if !found || fresh.Digest == "" {
		return Claim{}, true, nil
	}
	if fresh.Digest != a.Digest {
		return Claim{Row: fresh}, false, &ConflictError{Scope: a.Scope, Key: a.Key, Recorded: fresh.Digest, Requested: a.Digest}
	}
	busy := fresh.JobID == "" && fresh.OutcomeID == "" && fresh.LeaseLive(now)
	return Claim{Busy: busy, Row: fresh}, false, nil
}

// RecordJob records the job the owner's delivery made (state acting). 1
// UpdateRow, on the condition that the row exists, owner holds its lease
// (expired or not: nobody took it over) and it names no other job; a
// refusal costs 1 GetRow more to say why (ErrNotFound, ErrLeaseLost,
// ErrJobConflict). Recording the same job again is fine.
func (l *Ledger) RecordJob(ctx context.Context, scope, key, owner, jobID string) error {
	if err := firstErr(checkRowKey(scope, key), checkText("owner", owner, MaxOwner, false, true),
		checkText("jobId", jobID, MaxID, false, true)); err != nil {
		return err
	}
	cond := tablestore.NewCompositeColumnCondition(tablestore.LO_AND)
	cond.AddFilter(mustEqual(ColLeaseOwner, owner))
	cond.AddFilter(missingOr(ColJobID, jobID))
	ch := l.update(scope, key, cond)
	ch.PutColumn(ColJobID, jobID)
	ch.PutColumn(ColState, string(StateActing))
	ch.PutColumn(ColUpdatedAt, l.clock().UnixMilli())
	return l.conditional(ctx, "RecordJob", scope, key, ch, func(r Row) *StateError {
		if r.LeaseOwner != owner {
			return &StateError{Kind: ErrLeaseLost, Recorded: r.LeaseOwner, Requested: owner}
		}
		return &StateError{Kind: ErrJobConflict, Recorded: r.JobID, Requested: jobID}
	})
}

// RecordOutcome records the ask's terminal outcome id (state done). 1
// UpdateRow, on the condition that the row exists and has no other outcome
// id; the same id again is fine (at-least-once), another one is refused
// with ErrOutcomeConflict naming both (1 GetRow more). Anyone may record
// it: the tracker that sees the job end need not hold the lease.
func (l *Ledger) RecordOutcome(ctx context.Context, scope, key, outcomeID string) error {
	if err := firstErr(checkRowKey(scope, key), checkText("outcomeId", outcomeID, MaxID, false, true)); err != nil {
		return err
	}
	ch := l.update(scope, key, missingOr(ColOutcomeID, outcomeID))
	ch.PutColumn(ColOutcomeID, outcomeID)
	ch.PutColumn(ColState, string(StateDone))
	ch.PutColumn(ColUpdatedAt, l.clock().UnixMilli())
	return l.conditional(ctx, "RecordOutcome", scope, key, ch, func(r Row) *StateError {
		return &StateError{Kind: ErrOutcomeConflict, Recorded: r.OutcomeID, Requested: outcomeID}
	})
}

// Renew extends owner's lease to d from now (ledger clock) and returns the
// new expiry. 1 UpdateRow, on the condition that owner still holds the
// lease (then nobody took it over, even if it expired); ErrLeaseLost or
// ErrNotFound otherwise (1 GetRow more).
func (l *Ledger) Renew(ctx context.Context, scope, key, owner string, d time.Duration) (time.Time, error) {
	return l.extend(ctx, "Renew", scope, key, owner, d, false)
}

// MarkSending says, just before the lease holder sends CreateBackup, that
// it is sending it, and renews its lease to d from now: 1 UpdateRow, on the
// condition that owner still holds the lease (ErrLeaseLost or ErrNotFound
// otherwise, 1 GetRow more). A later delivery that finds SentAt on a row
// without a job knows a job may exist that the row does not name (its
// sender died before RecordJob), and looks for it — waiting out RDS's
// listing lag if need be — before it creates another.
func (l *Ledger) MarkSending(ctx context.Context, scope, key, owner string, d time.Duration) (time.Time, error) {
	return l.extend(ctx, "MarkSending", scope, key, owner, d, true)
}

// extend is Renew, and MarkSending when sending.
func (l *Ledger) extend(ctx context.Context, op, scope, key, owner string, d time.Duration, sending bool) (time.Time, error) {
	if err := firstErr(checkRowKey(scope, key), checkText("owner", owner, MaxOwner, false, true)); err != nil {
		return time.Time{}, err
	}
	if d <= 0 {
		return time.Time{}, &ValidationError{Field: "lease", Rule: "must be positive"}
	}
	now := l.clock()
	until := now.Add(d)
	ch := l.update(scope, key, mustEqual(ColLeaseOwner, owner))
	ch.PutColumn(ColLeaseUntil, until.UnixMilli())
	if sending {
		ch.PutColumn(ColSentAt, now.UnixMilli())
	}
	ch.PutColumn(ColUpdatedAt, now.UnixMilli())
	err := l.conditional(ctx, op, scope, key, ch, func(r Row) *StateError {
		return &StateError{Kind: ErrLeaseLost, Recorded: r.LeaseOwner, Requested: owner}
	})
	if err != nil {
		return time.Time{}, err
	}
	return toMs(until), nil
}

// Release ends owner's lease now, when its delivery ends without a job (the
// ask was deferred, rejected or failed on the way): the next delivery of
// the ask takes the row over at once instead of waiting out the lease as
// Busy. 1 UpdateRow, on the condition that owner still holds the lease and
// the row has no job; ErrLeaseLost, ErrJobConflict or ErrNotFound
// otherwise (1 GetRow more). Releasing is an optimisation: a delivery that
// dies without releasing only delays the next one by the lease.
//
// forgetSend clears SentAt: every CreateBackup this delivery sent was
// answered without a job (refused), so none may exist unlisted.
func (l *Ledger) Release(ctx context.Context, scope, key, owner string, forgetSend bool) error {
	if err := firstErr(checkRowKey(scope, key), checkText("owner", owner, MaxOwner, false, true)); err != nil {
		return err
	}
	now := l.clock()
	cond := tablestore.NewCompositeColumnCondition(tablestore.LO_AND)
	cond.AddFilter(mustEqual(ColLeaseOwner, owner))
	cond.AddFilter(missingOr(ColJobID, ""))
	ch := l.update(scope, key, cond)
	ch.PutColumn(ColLeaseUntil, now.UnixMilli())
	ch.PutColumn(ColUpdatedAt, now.UnixMilli())
	if forgetSend {
		ch.DeleteColumn(ColSentAt)
	}
	return l.conditional(ctx, "Release", scope, key, ch, func(r Row) *StateError {
		if r.LeaseOwner != owner {
			return &StateError{Kind: ErrLeaseLost, Recorded: r.LeaseOwner, Requested: owner}
		}
		return &StateError{Kind: ErrJobConflict, Recorded: r.JobID, Requested: ""}
	})
}

// Reopen takes over an ask whose recorded job failed (a failed backup
// satisfies no ask, DESIGN.md §2: the ask runs again): 1 UpdateRow that
// clears the job and gives a.Owner the lease, on the condition that the row
// still names failedJob and has no outcome. Won → Claim{Won, TakenOver}
// (look before creating: another delivery may have reopened and created
// meanwhile, then lost its answer); lost → the row as it is now (another
// delivery reopened it first: its new job, or its live lease → Busy), 1
// GetRow more.
func (l *Ledger) Reopen(ctx context.Context, a Ask, failedJob string) (Claim, error) {
	if err := firstErr(a.Validate(), checkText("jobId", failedJob, MaxID, false, true)); err != nil {
		return Claim{}, err
	}
	now := l.clock()
	until := now.Add(l.lease)
	cond := tablestore.NewCompositeColumnCondition(tablestore.LO_AND)
	cond.AddFilter(mustEqual(ColJobID, failedJob))
	cond.AddFilter(mustEqual(ColDigest, a.Digest))
	cond.AddFilter(missingOr(ColOutcomeID, ""))
	ch := l.update(a.Scope, a.Key, cond)
	ch.DeleteColumn(ColJobID)
	ch.DeleteColumn(ColSentAt)
	ch.PutColumn(ColLeaseOwner, a.Owner)
	ch.PutColumn(ColLeaseUntil, until.UnixMilli())
	ch.PutColumn(ColState, string(StateClaimed))
	ch.PutColumn(ColUpdatedAt, now.UnixMilli())
	err := l.do(ctx, "UpdateRow", func() error {
		_, err := l.client.UpdateRow(&tablestore.UpdateRowRequest{UpdateRowChange: ch})
		return err
	})
	if err == nil {
		r := l.newRow(a, now) // what the row now says of the claim (its claimedAt aside)
		return Claim{Won: true, TakenOver: true, Row: r}, nil
	}
	if !isConditionFail(err) {
		return Claim{}, err
	}
	fresh, found, err := l.Get(ctx, a.Scope, a.Key)
	if err != nil {
		return Claim{}, err
	}
	if !found || fresh.Digest == "" {
		return l.Claim(ctx, a)
	}
	if fresh.Digest != a.Digest {
		return Claim{Row: fresh}, &ConflictError{Scope: a.Scope, Key: a.Key, Recorded: fresh.Digest, Requested: a.Digest}
	}
	busy := fresh.JobID == "" && fresh.OutcomeID == "" && fresh.LeaseLive(now)
	return Claim{Busy: busy, Row: fresh}, nil
}

// Get reads the ask's row: 1 GetRow. found is false when there is no live
// row (never claimed, or expired by the table's TTL).
func (l *Ledger) Get(ctx context.Context, scope, key string) (Row, bool, error) {
	if err := checkRowKey(scope, key); err != nil {
		return Row{}, false, err
	}
	resp, err := l.getRow(ctx, scope, key)
	if err != nil || resp == nil {
		return Row{}, false, err
	}
	r := Row{Scope: scope, Key: key}
	for _, c := range resp.Columns {
		switch v := c.Value.(type) {
		case string:
			switch c.ColumnName {
			case ColDigest:
				r.Digest = v
			case ColMethod:
				r.Method = v
			case ColTarget:
				r.Target = v
			case ColState:
				r.State = State(v)
			case ColLeaseOwner:
				r.LeaseOwner = v
			case ColJobID:
				r.JobID = v
			case ColOutcomeID:
				r.OutcomeID = v
			case ColRunID:
				r.RunID = v
			}
		case int64:
			t := time.UnixMilli(v).UTC()
			switch c.ColumnName {
			case ColAskedAt:
				r.AskedAt = t
			case ColLeaseUntil:
				r.LeaseUntil = t
			case ColClaimedAt:
				r.ClaimedAt = t
			case ColUpdatedAt:
				r.UpdatedAt = t
			case ColSentAt:
				r.SentAt = t
			}
		}
	}
	return r, true, nil
}

// getRow reads one row's newest versions: 1 GetRow. nil: no such row.
func (l *Ledger) getRow(ctx context.Context, scope, key string) (*tablestore.GetRowResponse, error) {
	q := &tablestore.SingleRowQueryCriteria{TableName: l.table, PrimaryKey: pk(scope, key), MaxVersion: 1}
	var resp *tablestore.GetRowResponse
	err := l.do(ctx, "GetRow", func() error {
		var err error
		resp, err = l.client.GetRow(&tablestore.GetRowRequest{SingleRowQueryCriteria: q})
		return err
	})
	if err != nil || resp == nil || len(resp.PrimaryKey.PrimaryKeys) == 0 {
		return nil, err
	}
	return resp, nil
}

// getRange reads one page of rows from start towards end (exclusive),
// newest versions, at most limit: 1 GetRange. next is where the following
// page starts; nil when the range is read.
func (l *Ledger) getRange(ctx context.Context, start, end *tablestore.PrimaryKey, dir tablestore.Direction, limit int) (rows []*tablestore.Row, next *tablestore.PrimaryKey, err error) {
	q := &tablestore.RangeRowQueryCriteria{TableName: l.table, StartPrimaryKey: start, EndPrimaryKey: end,
		Direction: dir, MaxVersion: 1, Limit: int32(limit)}
	var resp *tablestore.GetRangeResponse
	err = l.do(ctx, "GetRange", func() error {
		var err error
		resp, err = l.client.GetRange(&tablestore.GetRangeRequest{RangeRowQueryCriteria: q})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return resp.Rows, resp.NextStartPrimaryKey, nil
}

// conditional runs a conditional UpdateRow; on OTSConditionCheckFail it
// reads the row to say why (why builds the error from the row read).
func (l *Ledger) conditional(ctx context.Context, op, scope, key string, ch *tablestore.UpdateRowChange, why func(Row) *StateError) error {
	err := l.do(ctx, "UpdateRow", func() error {
		_, err := l.client.UpdateRow(&tablestore.UpdateRowRequest{UpdateRowChange: ch})
		return err
	})
	if err == nil || !isConditionFail(err) {
		return err
	}
	return l.stateError(ctx, op, scope, key, why)
}

// stateError reads the row whose write's condition did not hold and says
// why (why builds the error from the row read; a missing row, or one
// without a digest, is ErrNotFound).
func (l *Ledger) stateError(ctx context.Context, op, scope, key string, why func(Row) *StateError) error {
	r, found, err := l.Get(ctx, scope, key)
	if err != nil {
		return err
	}
	var se *StateError
	if !found || r.Digest == "" {
		se = &StateError{Kind: ErrNotFound}
	} else {
		se = why(r)
	}
	se.Op, se.Scope, se.Key = op, scope, key
	return se
}

func (l *Ledger) newRow(a Ask, now time.Time) Row {
	ms := toMs(now)
	return Row{
		Scope: a.Scope, Key: a.Key, AskedAt: toMs(a.AskedAt),
		Digest: a.Digest, Method: a.Method, Target: a.Target,
		State: StateClaimed, LeaseOwner: a.Owner, LeaseUntil: toMs(now.Add(l.lease)),
		RunID: a.RunID, ClaimedAt: ms, UpdatedAt: ms,
	}
}

// put writes r whole (PutRow replaces the row) under the row existence
// expectation and the optional column condition.
func (l *Ledger) put(ctx context.Context, r Row, exp tablestore.RowExistenceExpectation, cond tablestore.ColumnFilter) error {
	ch := l.putChange(r, exp, cond)
	return l.do(ctx, "PutRow", func() error {
		_, err := l.client.PutRow(&tablestore.PutRowRequest{PutRowChange: ch})
		return err
	})
}

// claimPut writes a new ask's row if none exists, combined with the other
// asks' writes of the moment (combine.go): alone, one PutRow.
func (l *Ledger) claimPut(ctx context.Context, r Row) error {
	res, err := l.write(ctx, writeGroup{name: "PutRow",
		put: l.putChange(r, tablestore.RowExistenceExpectation_EXPECT_NOT_EXIST, nil)})
	if err != nil {
		return err
	}
	if !res[0].IsSucceed {
		return rowError("PutRow", l.table, res[0].Error)
	}
	return nil
}

// putChange is the PutRow of r whole under the row existence expectation
// and the optional column condition.
func (l *Ledger) putChange(r Row, exp tablestore.RowExistenceExpectation, cond tablestore.ColumnFilter) *tablestore.PutRowChange {
	ch := &tablestore.PutRowChange{TableName: l.table, PrimaryKey: pk(r.Scope, r.Key)}
	ch.AddColumn(ColAskedAt, r.AskedAt.UnixMilli())
	ch.AddColumn(ColDigest, r.Digest)
	if r.Method != "" {
		ch.AddColumn(ColMethod, r.Method)
	}
	if r.Target != "" {
		ch.AddColumn(ColTarget, r.Target)
	}
	ch.AddColumn(ColState, string(r.State))
	ch.AddColumn(ColLeaseOwner, r.LeaseOwner)
	ch.AddColumn(ColLeaseUntil, r.LeaseUntil.UnixMilli())
	if r.RunID != "" {
		ch.AddColumn(ColRunID, r.RunID)
	}
	ch.AddColumn(ColClaimedAt, r.ClaimedAt.UnixMilli())
	ch.AddColumn(ColUpdatedAt, r.UpdatedAt.UnixMilli())
	if !r.SentAt.IsZero() {
		ch.AddColumn(ColSentAt, r.SentAt.UnixMilli())
	}
	ch.SetCondition(exp)
	if cond != nil {
		ch.SetColumnCondition(cond)
	}
	return ch
}

// update starts an UpdateRow of the row on EXPECT_EXIST and cond.
func (l *Ledger) update(scope, key string, cond tablestore.ColumnFilter) *tablestore.UpdateRowChange {
	ch := &tablestore.UpdateRowChange{TableName: l.table, PrimaryKey: pk(scope, key)}
	ch.SetCondition(tablestore.RowExistenceExpectation_EXPECT_EXIST)
	ch.SetColumnCondition(cond)
	return ch
}

// do runs one SDK call. The SDK takes no context: the call runs in its own
// goroutine and do returns when the context ends first (the call's effect
// is then unknown, and the abandoned call ends by the client's
// HTTPTimeout). The context is checked first: a dead context makes no call.
func (l *Ledger) do(ctx context.Context, op string, call func() error) error {
	if err := ctx.Err(); err != nil {
		return &Error{Op: op, Table: l.table, Canceled: true, Err: err}
	}
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		if err != nil {
			return wrap(op, l.table, err)
		}
		return nil
	case <-ctx.Done():
		return &Error{Op: op, Table: l.table, Canceled: true, Err: ctx.Err()}
	}
}

// toMs is t as a row holds it: unix milliseconds, UTC.
func toMs(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

func pk(scope, key string) *tablestore.PrimaryKey {
	p := new(tablestore.PrimaryKey)
	p.AddPrimaryKeyColumn(ColScope, scope)
	p.AddPrimaryKeyColumn(ColKey, key)
	return p
}

// mustEqual: the column exists and its newest version equals v.
func mustEqual(col string, v any) *tablestore.SingleColumnCondition {
	c := tablestore.NewSingleColumnCondition(col, tablestore.CT_EQUAL, v)
	c.FilterIfMissing, c.LatestVersionOnly = true, true
	return c
}

// missingOr: the column is missing, or its newest version equals v.
func missingOr(col string, v any) *tablestore.SingleColumnCondition {
	c := tablestore.NewSingleColumnCondition(col, tablestore.CT_EQUAL, v)
	c.FilterIfMissing, c.LatestVersionOnly = false, true
	return c
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
