package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// The fake clock's now is 2026-11-25T10:00:00Z: rm-a finished 2 h ago,
// rm-b 50 h ago, rm-c never.
const reportAns = `{"since":"2026-11-24T10:00:00Z","instances":[
 {"DBInstanceId":"rm-a","lastFinished":{"BackupId":"11","BackupMethod":"Physical","BackupEndTime":"2026-11-25T08:00:00Z"},
  "problems":[{"time":"2026-11-25T09:00:00Z","status":"rejected","code":"ReadDBInstanceNotSupport","backupMethod":"Physical"},
              {"time":"2026-11-25T09:30:00Z","status":"deferred","code":"IncorrectDBInstanceState"}]},
 {"DBInstanceId":"rm-b","lastFinished":{"BackupId":"12","BackupMethod":"Logical","BackupEndTime":"2026-11-23T08:00:00Z"},"problems":[]},
 {"DBInstanceId":"rm-c","lastFinished":null,"problems":[]}]}`

const reportAnsFresh = `{"since":"2026-11-24T10:00:00Z","instances":[
 {"DBInstanceId":"rm-a","lastFinished":{"BackupId":"11","BackupMethod":"Physical","BackupEndTime":"2026-11-25T08:00:00Z"},"problems":[]}]}`

func TestCLIReport(t *testing.T) {
	report := func(body string) *hook { return &hook{get: always(200, body)} }
	for _, c := range []struct {
		name   string
		h      *hook
		args   []string
		want   int
		out    []string
		notOut []string
	}{
		{name: "the report: 0, per instance its last Finished backup and its problems",
			h: report(reportAns), args: []string{"report", "--instances", "rm-a,rm-b", "rm-c"}, want: 0,
			out: []string{"report since 2026-11-24T10:00:00Z",
				"rm-a: last Finished 2026-11-25T08:00:00Z Physical, backup set 11",
				"  2026-11-25T09:00:00Z rejected ReadDBInstanceNotSupport (Physical)",
				"  2026-11-25T09:30:00Z deferred IncorrectDBInstanceState",
				"rm-b: last Finished 2026-11-23T08:00:00Z Logical, backup set 12",
				"rm-c: no Finished backup in the last 8 days"},
			notOut: []string{"stale"}},
		{name: "--stale 26h: 1, naming the stale instances",
			h: report(reportAns), args: []string{"report", "--since", "24h", "--stale", "26h"}, want: 1,
			out: []string{"rm-a: last Finished", "stale: no Finished backup within 26h0m0s: rm-b, rm-c"}},
		{name: "--stale 26h, all fresh: 0",
			h: report(reportAnsFresh), args: []string{"report", "--stale", "26h", "--instances", "rm-a"}, want: 0,
			notOut: []string{"stale"}},
		{name: "--stale 3h with a backup 2h old: 0",
			h: report(reportAnsFresh), args: []string{"report", "--stale", "3h"}, want: 0},
		{name: "--stale 1h with a backup 2h old: 1",
			h: report(reportAnsFresh), args: []string{"report", "--stale", "1h"}, want: 1, out: []string{"stale: no Finished backup within 1h0m0s: rm-a"}},
		{name: "an instance RDS could not read counts as stale",
			h:    report(`{"since":"2026-11-24T10:00:00Z","instances":[{"DBInstanceId":"rm-a","lastFinished":null,"problems":[],"error":{"code":"Throttling","message":"RDS could not list"}}]}`),
			args: []string{"report", "--stale", "26h"}, want: 1, out: []string{"rm-a: could not read its backups: Throttling", "stale: no Finished backup within 26h0m0s: rm-a"}},
		{name: "401: 3, naming the secret",
			h:    &hook{get: always(401, `{"error":{"code":"Unauthorized","message":"missing or invalid signature"}}`)},
			args: []string{"report"}, want: 3, out: []string{"RDSBACKUP_SECRET"}},
		{name: "403: 3, naming the route",
			h:    &hook{get: always(403, `{"error":{"code":"Forbidden.NotAllowed","message":"route \"ci\" does not allow instance rm-x"}}`)},
			args: []string{"report", "--instances", "rm-x"}, want: 3, out: []string{"allows these instances"}},
		{name: "400 (a route of patterns, no instances): 3, with the webhook's words",
			h:    &hook{get: always(400, `{"error":{"code":"Parameters.Invalid","message":"instances: required: route \"ci\" allows patterns: name the instances","field":"instances"}}`)},
			args: []string{"report"}, want: 3, out: []string{"could not read the report", "name the instances"}},
		{name: "501 (no ledger): 3",
			h:    &hook{get: always(501, `{"error":{"code":"NotConfigured","message":"the report is not available in this deployment"}}`)},
			args: []string{"report", "--instances", "rm-a"}, want: 3, out: []string{"NotConfigured"}},
		{name: "not the webhook's answer: 3",
			h: report(`{"status":"ok"}`), args: []string{"report"}, want: 3},
		{name: "a bad instance id: 64", args: []string{"report", "--instances", "rm-a,rm-*"}, want: 64, out: []string{`"rm-*" is not a DBInstanceId`}},
		{name: "--since out of bounds: 64", args: []string{"report", "--since", "30s"}, want: 64, out: []string{"--since 30s"}},
		{name: "--since not a duration: 64", args: []string{"report", "--since", "1d"}, want: 64},
		{name: "--stale negative: 64", args: []string{"report", "--stale", "-1h"}, want: 64},
		{name: "report --help: 0", args: []string{"report", "--help"}, want: 0, out: []string{"Usage: rdsbackup report", "--stale", "Exit codes", "RDSBACKUP_CALLER"}},
		{name: "--help lists report", args: []string{"--help"}, want: 0, out: []string{"rdsbackup report [--since 24h] [--stale D]"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := c.h
			if h == nil {
				h = report(reportAns)
			}
			r := cli(t, h, false, nil, c.args...)
			all := r.stdout + r.stderr
			if r.code != c.want {
				t.Fatalf("exit %d, want %d:\n%s", r.code, c.want, all)
			}
			for _, s := range c.out {
				if !strings.Contains(all, s) {
					t.Errorf("output lacks %q:\n%s", s, all)
				}
			}
			for _, s := range c.notOut {
				if strings.Contains(all, s) {
					t.Errorf("output has %q:\n%s", s, all)
				}
			}
			if len(h.posts) != 0 {
				t.Errorf("report POSTed %d times", len(h.posts))
			}
		})
	}
}

// --json prints the report as one JSON object.
func TestCLIReportJSON(t *testing.T) {
	r := cli(t, &hook{get: always(200, reportAns)}, false, nil, "report", "--json", "--stale", "26h")
	if r.code != 1 {
		t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	var got struct {
		Since     string `json:"since"`
		Instances []struct {
			DBInstanceId string
			LastFinished *struct{ BackupId string }      `json:"lastFinished"`
			Problems     []struct{ Status, Code string } `json:"problems"`
		} `json:"instances"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if got.Since != "2026-11-24T10:00:00Z" || len(got.Instances) != 3 || got.Instances[0].LastFinished.BackupId != "11" ||
		got.Instances[0].Problems[0].Code != "ReadDBInstanceNotSupport" || got.Instances[2].LastFinished != nil {
		t.Errorf("%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "rm-b, rm-c") {
		t.Errorf("stderr: %s", r.stderr)
	}
}
