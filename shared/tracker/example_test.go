package tracker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/tracker"
)

type oneJob struct{ status, process string }

func (j oneJob) JobStatus(_ context.Context, _, _, jobID string) (backup.Job, bool, error) {
	return backup.Job{BackupJobId: jobID, BackupStatus: j.status, Process: j.process, BackupId: "B1"}, true, nil
}

func Example() {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	accepted := time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)
	r := backup.Request{DBInstanceId: "rm-1", RegionId: "cn-shanghai"}

	tr := tracker.New(oneJob{"Uploading", "45"}, tracker.Options{Logger: log})
	m, delay := tr.Start(r, "347621853", accepted)
	res := tr.Check(context.Background(), m, accepted.Add(delay))
	fmt.Println(delay, res.Done(), res.Next.Checks, res.Next.LastStatus, res.Delay)

	tr = tracker.New(oneJob{"Finished", "100"}, tracker.Options{Logger: log})
	res = tr.Check(context.Background(), *res.Next, accepted.Add(delay+res.Delay))
	fmt.Println(res.Done(), res.Outcome.Status, res.Outcome.BackupId)
	// Output:
	// 30s false 1 Uploading 1m0s
	// true completed B1
}
