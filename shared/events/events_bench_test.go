package events_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// benchFixture reads a sample event of testdata/events.
func benchFixture(b *testing.B, name string) []byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// mnsBatch is an FC 3.0 MNS queue event (EventBridge, CloudEvents schema)
// of n messages: the first element of testdata/events/mns-queue.json
// repeated with fresh ids, alternating a db-level logical request and an
// instance-level physical one.
func mnsBatch(b *testing.B, n int) []byte {
	b.Helper()
	var sample []map[string]any
	if err := json.Unmarshal(benchFixture(b, "mns-queue.json"), &sample); err != nil {
		b.Fatal(err)
	}
	out := make([]map[string]any, n)
	for i := range out {
		ev := map[string]any{}
		for k, v := range sample[0] {
			ev[k] = v
		}
		id := fmt.Sprintf("C6DB60D1574661357FA22727744%05X", i)
		body := fmt.Sprintf(`{"DBInstanceId":"rm-bench%04d","BackupMethod":"Logical","BackupStrategy":"db","DBName":"orders,billing"}`, i)
		if i%2 == 1 {
			body = fmt.Sprintf(`{"DBInstanceId":"rm-bench%04d","BackupMethod":"Physical","RegionId":"cn-hangzhou"}`, i)
		}
		ev["id"] = id
		ev["data"] = map[string]any{"requestId": fmt.Sprintf("606EA3074344430D4C8%05X", i), "messageId": id, "messageBody": body}
		out[i] = ev
	}
	raw, err := json.Marshal(out)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkParseMNS decodes an EventBridge batch and normalizes every
// message (ParseMNS + Requests): the queue function's decoding per
// invocation. 10 is the trigger's CountBasedWindow in s.yaml; 1000 is far
// beyond any batch it is configured for.
func BenchmarkParseMNS(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			raw := mnsBatch(b, n)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				msgs, err := events.ParseMNS(raw)
				if err != nil || len(msgs) != n {
					b.Fatalf("ParseMNS: %d messages, %v", len(msgs), err)
				}
				for _, m := range msgs {
					if reqs, _, err := m.Requests(); err != nil || len(reqs) != 1 {
						b.Fatalf("Requests: %d, %v", len(reqs), err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
		})
	}
}

// BenchmarkTimerPlan decodes a timer event and normalizes its plan
// (ParseTimer + Requests): the sample event of testdata/events/timer.json,
// and a plan that lists 500 instances explicitly.
func BenchmarkTimerPlan(b *testing.B) {
	backups := make([]map[string]string, 500)
	for i := range backups {
		backups[i] = map[string]string{"DBInstanceId": fmt.Sprintf("rm-fleet%04d", i)}
	}
	plan, err := json.Marshal(map[string]any{"Defaults": map[string]string{"BackupMethod": "Physical"}, "Backups": backups})
	if err != nil {
		b.Fatal(err)
	}
	big, err := json.Marshal(events.TimerEvent{TriggerTime: "2026-11-24T18:00:00Z", TriggerName: "nightly", Payload: string(plan)})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		raw  []byte
		want int
	}{
		{"fixture", benchFixture(b, "timer.json"), 2},
		{"backups=500", big, 500},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.raw)))
			b.ReportAllocs()
			for b.Loop() {
				ev, err := events.ParseTimer(c.raw)
				if err != nil {
					b.Fatal(err)
				}
				reqs, _, err := ev.Requests()
				if err != nil || len(reqs) != c.want {
					b.Fatalf("Requests: %d, %v", len(reqs), err)
				}
			}
		})
	}
}
