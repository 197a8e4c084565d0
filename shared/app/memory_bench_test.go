package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/fc-rds-backup/fc-rds-backup/shared/app"
	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// These benchmarks size the functions' memory (s.yaml memorySize): one
// invocation of a function's handler (the App that functions/<name> hands
// to fc.Start, with an FC context carrying STS credentials) runs in-process
// against the RDS and MNS emulators over loopback, with the real SDKs, while
// runtime.MemStats is sampled.
//
// Reported, worst over the runs:
//
//	peak-heap-MB  highest HeapInuse seen during an invocation: the whole
//	              test process, so it also counts the emulators (the
//	              500-instance fleet, the queued messages), the test
//	              framework and earlier runs' leftovers (emulator logs, idle
//	              connection pools), which grow a little with b.N — an upper
//	              bound for a function instance;
//	op-heap-MB    that peak minus HeapInuse after a GC just before the
//	              invocation: what the invocation itself adds;
//	sys-MB        MemStats.Sys after an invocation: all memory the Go
//	              runtime holds from the OS (heap, stacks, GC metadata),
//	              whole process.
//
// rds-calls/op and mns-calls/op are the requests an invocation sends. ns/op
// is its wall time on loopback (slightly inflated by the sampling, which
// stops the world every millisecond); in the cloud each of those requests
// adds a network round trip.

const (
	benchNotifyQ = "rds-backup-notify"
	benchWorkQ   = "rds-backup-work"
	benchRegion  = "cn-hangzhou"
)

// heapPeak samples runtime.MemStats while an invocation runs, and counts
// the requests the invocations sent.
type heapPeak struct {
	runs          int
	peak, op, sys uint64 // worst over the runs

	rdsCalls, mnsCalls int // over the runs
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// count adds the calls an invocation made (before: the RDS count before it;
// the MNS server is the run's own).
func (p *heapPeak) count(rds *rds.Server, before int, m *mns.Server) {
	p.rdsCalls += total(rds.Counts()) - before
	p.mnsCalls += total(m.Counts())
}

// measure runs fn once (timed) after a GC, sampling HeapInuse every
// millisecond.
func (p *heapPeak) measure(b *testing.B, fn func()) {
	b.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var m runtime.MemStats
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	b.StartTimer()
	fn()
	b.StopTimer()
	close(stop)
	peak := <-done
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapInuse)
	p.runs++
	p.peak = max(p.peak, peak)
	p.op = max(p.op, peak-min(peak, base))
	p.sys = max(p.sys, ms.Sys)
}

func (p *heapPeak) report(b *testing.B) {
	const mb = 1 << 20
	b.ReportMetric(float64(p.peak)/mb, "peak-heap-MB")
	b.ReportMetric(float64(p.op)/mb, "op-heap-MB")
	b.ReportMetric(float64(p.sys)/mb, "sys-MB")
	b.ReportMetric(float64(p.rdsCalls)/float64(p.runs), "rds-calls/op")
	b.ReportMetric(float64(p.mnsCalls)/float64(p.runs), "mns-calls/op")
}

// benchCloud is a local RDS (and, per run, a fresh MNS) sharing one STS
// credential store, as the functions see them in Function Compute.
type benchCloud struct {
	auth *auth.Store
	role auth.Credential
	rds  *rds.Server
}

// newBenchCloud starts the RDS emulator with instances; the caller closes
// it (a Cleanup per run would keep every run's emulator alive to the end).
func newBenchCloud(instances []rds.Instance) *benchCloud {
	c := &benchCloud{auth: auth.NewStore(nil)}
	c.rds = rds.NewServer(rds.WithCredentials(c.auth), rds.WithBackupDuration(time.Minute))
	for _, in := range instances {
		c.rds.AddInstance(in)
	}
	c.role = c.auth.IssueSTS(2 * time.Hour)
	return c
}

// mns starts an MNS with the notify and work queues.
func (c *benchCloud) mns(b *testing.B) *mns.Server {
	b.Helper()
	m := mns.NewServer(mns.WithCredentials(c.auth))
	for _, q := range []string{benchNotifyQ, benchWorkQ} {
		if err := m.CreateQueue(q, mns.QueueAttributes{}); err != nil {
			b.Fatal(err)
		}
	}
	return m
}

// localSealer seals envelopes as the functions do on loopback endpoints
// (config.LocalEnvelopeKey).
var localSealer, _ = workqueue.NewSealer([]byte(config.LocalEnvelopeKey))

// app builds a function with s.yaml's environment (the defaults it does not
// list are the same), pointed at the emulators, logging at info level into
// io.Discard (the lines are still formatted).
func (c *benchCloud) app(b *testing.B, function string, m *mns.Server, env ...string) *app.App {
	b.Helper()
	cfg, err := config.Load(append([]string{
		"BACKUP_MNS_ENDPOINT=" + m.Endpoint(),
		"BACKUP_NOTIFY_QUEUE=" + benchNotifyQ,
		"BACKUP_WORK_QUEUE=" + benchWorkQ,
		"BACKUP_RDS_ENDPOINT=" + c.rds.Endpoint(),
		"BACKUP_RDS_PROTOCOL=http",
		"BACKUP_REGION=" + benchRegion,
		"BACKUP_RDS_CONCURRENCY=4",
		"BACKUP_INLINE_LIMIT=10",
		"FC_RUNTIME_API=127.0.0.1:1", // as inside FC: credentials come with the invocation
	}, env...), nil)
	if err != nil {
		b.Fatal(err)
	}
	a, err := app.New(function, cfg, app.Options{Logger: app.NewLogger(io.Discard, "info")})
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// ctx is an invocation's context: the FC context with the role's STS
// credentials and the function's timeout.
func (c *benchCloud) ctx(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	return fccontext.NewContext(ctx, &fccontext.FcContext{
		RequestID: "1-bench", Region: benchRegion,
		Credentials: fccontext.Credentials{
			AccessKeyId: c.role.AccessKeyID, AccessKeySecret: c.role.AccessKeySecret, SecurityToken: c.role.SecurityToken,
		},
	}), cancel
}

// fleet is n MySQL instances tagged backup=nightly.
func fleet(prefix string, n int) []rds.Instance {
	out := make([]rds.Instance, n)
	for i := range out {
		out[i] = rds.Instance{DBInstanceId: fmt.Sprintf("%s%04d", prefix, i), RegionId: benchRegion, Engine: "MySQL",
			Databases: []string{"app"}, Tags: map[string]string{"backup": "nightly", "team": fmt.Sprint(i % 7)}}
	}
	return out
}

// BenchmarkScheduledFanOut500 is the scheduled function's invocation for a
// 500-instance plan: decode the timer event, expand the selector (five
// DescribeDBInstances pages of 100) or take the explicit list, normalize,
// and fan out to the work queue (500 "backup" messages, 32 BatchSendMessage
// calls of 16). This is the largest thing any function holds in memory at
// once; it justifies memorySize 128 and shows how much of the 120 s timeout
// a fan-out uses.
func BenchmarkScheduledFanOut500(b *testing.B) {
	const n = 500
	cloud := newBenchCloud(fleet("rm-fleet", n))
	b.Cleanup(cloud.rds.Close)
	list := make([]string, n)
	for i := range list {
		list[i] = fmt.Sprintf(`{"DBInstanceId":"rm-fleet%04d"}`, i)
	}
	for _, c := range []struct{ name, payload string }{
		// s.yaml's nightly trigger payload.
		{"select", `{"Defaults":{"BackupMethod":"Physical"},"Select":{"RegionId":"cn-hangzhou","Tags":{"backup":"nightly"}}}`},
		{"backups", `{"Defaults":{"BackupMethod":"Physical"},"Backups":[` + strings.Join(list, ",") + `]}`},
	} {
		b.Run(fmt.Sprintf("%s=%d", c.name, n), func(b *testing.B) {
			var hp heapPeak
			b.ReportAllocs()
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				m := cloud.mns(b)
				a := cloud.app(b, "scheduled", m, "BACKUP_MAX_REQUESTS_PER_CALL=500")
				ev := fc.NewTimerEvent(time.Date(2026, 11, 24, 18, 0, i, 0, time.UTC), "nightly", c.payload)
				ctx, cancel := cloud.ctx(120 * time.Second)
				var sum app.Summary
				var err error
				before := total(cloud.rds.Counts())
				hp.measure(b, func() { sum, err = a.HandleTimer(ctx, ev) })
				cancel()
				hp.count(cloud.rds, before, m)
				if err != nil || sum.Continued != 1 {
					b.Fatalf("summary %+v, %v", sum, err)
				}
				steps := 0
				for _, msg := range m.Messages(benchWorkQ) {
					if strings.Contains(msg.Body, `"kind":"plan"`) || strings.Contains(msg.Body, `"kind":"select"`) {
						steps++
					}
				}
				if steps != 1 {
					b.Fatalf("%d next steps in the work queue, want the run's one", steps)
				}
				m.Close()
			}
			hp.report(b)
		})
	}
}

// BenchmarkQueueBatch10 is the queue function's invocation for one
// EventBridge batch (CountBasedWindow 10 in s.yaml) of fan-out items: ten
// backups run with BACKUP_RDS_CONCURRENCY 4 (preflight and CreateBackup,
// about 30 RDS calls), ten outcomes published and ten tracking messages
// queued. Every run starts cold: fresh emulators, a new App.
func BenchmarkQueueBatch10(b *testing.B) {
	const n = 10
	var hp heapPeak
	b.ReportAllocs()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		prefix := fmt.Sprintf("rm-q%06d-", i)
		cloud := newBenchCloud(fleet(prefix, n))
		m := cloud.mns(b)
		a := cloud.app(b, "queue", m)
		msgs := make([]fc.MNSMessage, n)
		for j := range msgs {
			id := fmt.Sprintf("%s%04d", prefix, j)
			r := backup.Request{DBInstanceId: id, BackupMethod: "Physical", RegionId: benchRegion,
				Trigger:        backup.Trigger{Kind: "timer", Source: "nightly", DeliveryId: "2026-11-24T18:00:00Z"},
				IdempotencyKey: backup.Key("bench", id), CorrelationId: fmt.Sprintf("%016d", j)}
			body, err := localSealer.Seal(workqueue.Backup(r, nil, time.Now()))
			if err != nil {
				b.Fatal(err)
			}
			msgs[j] = fc.MNSMessage{Body: body}
		}
		ev := fc.NewMNSEvents(fc.MNSEventSource{Queue: benchWorkQ}, msgs...)
		ctx, cancel := cloud.ctx(120 * time.Second)
		var sum app.Summary
		var err error
		before := total(cloud.rds.Counts())
		hp.measure(b, func() { sum, err = a.HandleQueue(ctx, ev) })
		cancel()
		hp.count(cloud.rds, before, m)
		if err != nil || sum.Outcomes["accepted"] != n {
			b.Fatalf("summary %+v, %v", sum, err)
		}
		m.Close()
		cloud.rds.Close()
	}
	hp.report(b)
}

// BenchmarkWebhookSignedPlan10 is the webhook function's invocation for a
// signed POST /v1/backups naming ten instances: authentication, then the
// ten backups run inline (the caller waits for the job ids), outcomes
// published, jobs tracked, the 202 built. Every run starts cold: fresh
// emulators, a new App.
func BenchmarkWebhookSignedPlan10(b *testing.B) {
	const n, secret = 10, "bench-secret-0123456789"
	env := []string{
		`BACKUP_ROUTES={"routes":[{"name":"release-bot","source":"signed","secretEnv":"BOT_SECRET","allow":["rm-w*"]}]}`,
		"BOT_SECRET=" + secret,
	}
	var hp heapPeak
	b.ReportAllocs()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		prefix := fmt.Sprintf("rm-w%06d-", i)
		cloud := newBenchCloud(fleet(prefix, n))
		body := `{"Defaults":{"BackupMethod":"Physical"},"Backups":[`
		for j, in := range fleet(prefix, n) {
			if j > 0 {
				body += ","
			}
			body += `{"DBInstanceId":"` + in.DBInstanceId + `"}`
		}
		body += "]}"
		m := cloud.mns(b)
		a := cloud.app(b, "webhook", m, env...)
		ts := time.Now().Unix()
		raw, err := json.Marshal(events.HTTPEvent{
			Version: "v1", RawPath: "/v1/backups", Body: body, QueryParameters: map[string]string{},
			Headers: map[string]string{"Content-Type": "application/json", "X-Caller": "release-bot",
				"X-Timestamp": fmt.Sprint(ts), "X-Signature-256": webhook.SignV1(secret, ts, "POST", "/v1/backups", nil, []byte(body))},
			RequestContext: events.HTTPRequestContext{HTTP: events.HTTPRequestInfo{Method: "POST", Path: "/v1/backups"}},
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := cloud.ctx(30 * time.Second)
		var resp any
		before := total(cloud.rds.Counts())
		hp.measure(b, func() { resp, err = a.HandleHTTP(ctx, raw) })
		cancel()
		hp.count(cloud.rds, before, m)
		if r, ok := resp.(events.HTTPResponse); err != nil || !ok || r.StatusCode != 202 {
			b.Fatalf("response %+v, %v", resp, err)
		}
		m.Close()
		cloud.rds.Close()
	}
	hp.report(b)
}
