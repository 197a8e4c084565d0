package backup

import (
	"testing"
	"time"
)

func TestSatisfiedBy(t *testing.T) {
	asked := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	r := Request{DBInstanceId: "rm-1", AskedAt: asked}
	tests := []struct {
		name   string
		r      Request
		method string
		status string
		end    time.Time
		want   bool
	}{
		{"ended before the ask: never", r, "Physical", "Success", asked.Add(-time.Second), false},
		{"ended at the ask", r, "Physical", "Success", asked, true},
		{"ended in the second of the ask (the API's resolution)", Request{DBInstanceId: "rm-1", AskedAt: asked.Add(700 * time.Millisecond)}, "Physical", "Success", asked, true},
		{"ended the second before the ask", Request{DBInstanceId: "rm-1", AskedAt: asked.Add(700 * time.Millisecond)}, "Physical", "Success", asked.Add(-time.Second), false},
		{"ended after the ask (was running or started later)", r, "Physical", "Success", asked.Add(time.Hour), true},
		{"hours later still the same verdict", r, "Physical", "Success", asked.Add(5 * time.Hour), true},
		{"still running", r, "Physical", "", time.Time{}, true},
		{"failed set never", r, "Physical", "Failed", asked.Add(time.Minute), false},
		{"other method never", r, "Logical", "Success", asked.Add(time.Minute), false},
		{"Logical ask, Logical set", Request{DBInstanceId: "rm-1", BackupMethod: "Logical", AskedAt: asked}, "Logical", "Success", asked.Add(time.Minute), true},
		{"no askedAt: only a running set", Request{DBInstanceId: "rm-1"}, "Physical", "Success", asked, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SatisfiedBy(tc.r, tc.method, tc.status, tc.end); got != tc.want {
				t.Errorf("SatisfiedBy = %v, want %v", got, tc.want)
			}
		})
	}
}
