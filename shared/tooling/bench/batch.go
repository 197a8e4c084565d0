package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

// batchResult is the queue function's cost for one batch of n asks,
// measured from /proc, and the SDK floor for the same calls.
type batchResult struct {
	n              int
	peakRSS        int64 // bytes (VmHWM)
	cpu, floorCPU  time.Duration
	rdsCalls, sent int
}

// measureBatch runs the queue function (built, on the local cloud) on one
// EventBridge batch of n asks and reads its peak RSS and CPU; then runs the
// same number of RDS and MNS calls with the bare SDKs (sdkcalls, built the
// same way) and reads its CPU.
func measureBatch(root, dir string, n int) (batchResult, error) {
	res := batchResult{n: n}
	fleet := localcloud.Fleet{Region: "cn-hangzhou", BackupSeconds: 3600}
	for i := range n + 1 {
		fleet.Instances = append(fleet.Instances, rds.Instance{DBInstanceId: fmt.Sprintf("rm-batch-%03d", i), Engine: "MySQL"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := localcloud.StartStack(ctx, fleet, localcloud.Options{Env: []string{"BACKUP_TRACK_JOBS=false"}}, io.Discard)
	if err != nil {
		return res, err
	}
	defer st.Close()
	src := fc.MNSEventSource{Queue: localcloud.WorkQueue, Region: "cn-hangzhou", AccountID: localcloud.AccountID}
	// Warm up: the first invocation starts the instance.
	if r, err := st.Queue.Invoke(ctx, fc.NewMNSEvents(src, fc.MNSMessage{Body: fmt.Sprintf(`{"DBInstanceId":"rm-batch-%03d"}`, n)}), fc.InvokeOptions{}); err != nil || r.Failed() {
		return res, fmt.Errorf("warm-up invocation: %v %+v", err, r.Error)
	}
	pids := st.Queue.PIDs()
	if len(pids) != 1 {
		return res, fmt.Errorf("%d queue instances, want 1", len(pids))
	}
	pid := pids[0]
	cpu0, err := procCPU(pid)
	if err != nil {
		return res, err
	}
	rds0, mns0 := len(st.Cloud.RDS.Calls()), sends(st)
	msgs := make([]fc.MNSMessage, n)
	ids := make([]string, n)
	for i := range msgs {
		ids[i] = fmt.Sprintf("rm-batch-%03d", i)
		msgs[i] = fc.MNSMessage{Body: `{"DBInstanceId":"` + ids[i] + `"}`}
	}
	if r, err := st.Queue.Invoke(ctx, fc.NewMNSEvents(src, msgs...), fc.InvokeOptions{}); err != nil || r.Failed() {
		return res, fmt.Errorf("batch invocation: %v %+v", err, r.Error)
	}
	cpu1, err := procCPU(pid)
	if err != nil {
		return res, err
	}
	if res.peakRSS, err = procHWM(pid); err != nil {
		return res, err
	}
	res.cpu = cpu1 - cpu0
	res.rdsCalls, res.sent = len(st.Cloud.RDS.Calls())-rds0, sends(st)-mns0

	bin, err := build(root, "./shared/tooling/bench/testdata/sdkcalls", dir, "sdkcalls")
	if err != nil {
		return res, err
	}
	u := st.Cloud.User
	run := func(rdsCalls, sent int) (time.Duration, error) {
		cmd := exec.Command(bin, "-rds", strings.TrimPrefix(st.Cloud.RDS.Endpoint(), "http://"), "-mns", st.Cloud.MNS.Endpoint(),
			"-queue", localcloud.DeadLetter, "-ak", u.AccessKeyID, "-sk", u.AccessKeySecret, "-ids", strings.Join(ids, ","),
			"-rds-calls", strconv.Itoa(rdsCalls), "-sends", strconv.Itoa(sent))
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("sdkcalls: %w", err)
		}
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
	}
	idle, err := run(0, 0)
	if err != nil {
		return res, err
	}
	busy, err := run(res.rdsCalls, res.sent)
	if err != nil {
		return res, err
	}
	res.floorCPU = max(busy-idle, time.Millisecond)
	return res, nil
}

func sends(st *localcloud.Stack) int {
	n := 0
	for _, c := range st.Cloud.MNS.Calls() {
		if c.Op == "SendMessage" {
			n++
		}
	}
	return n
}

// procCPU is a process's CPU time so far: the time its threads have been
// on a CPU (/proc/<pid>/task/*/schedstat, in nanoseconds), or, where the
// kernel keeps no schedstat, user+system time from /proc/<pid>/stat (in
// clock ticks of 10 ms: ±10 ms on each reading, as much as a tenth of a
// batch's CPU). A thread that has exited is no longer counted; the Go
// runtime keeps its threads.
func procCPU(pid int) (time.Duration, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err == nil {
		var sum time.Duration
		for _, t := range tasks {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // the thread is gone, or the kernel has no schedstat
				}
				return 0, err
			}
			d, err := parseSchedstat(b)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/task/%s/schedstat: %w", pid, t.Name(), err)
			}
			sum += d
		}
		if sum > 0 {
			return sum, nil
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+stt) * 10 * time.Millisecond, nil
}

// parseSchedstat reads the first field of a schedstat line: nanoseconds on
// a CPU ("<on-cpu ns> <waiting ns> <timeslices>").
func parseSchedstat(b []byte) (time.Duration, error) {
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return 0, fmt.Errorf("want 3 fields, got %q", b)
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || ns < 0 {
		return 0, fmt.Errorf("on-CPU time %q is not a count of nanoseconds", f[0])
	}
	return time.Duration(ns), nil
}

// procHWM is a process's peak resident set (VmHWM).
func procHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM", pid)
}
