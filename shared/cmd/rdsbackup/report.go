package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/pipeline"
)

const reportHelp = `Usage: rdsbackup report [flags] [DBInstanceId...]

report reads the webhook's report (GET /v1/report) once: per instance its
last Finished backup (time in RFC 3339 UTC, method, backup set id) and
every ask since --since that was refused, failed or deferred (time,
status, code). The instances are --instances (a comma-separated list) and
the ids given as arguments, each allowed by your route; none: the exact
ids of your route's allow (a route of patterns must name them). With
--account the instances are a member account's (a plan across accounts,
docs/fleets.md), read through its member role: your route must allow
every instance ("*") and the account must be one the deployment allows.

With --stale D it is an alarm for cron: exit 1, naming them, when an
instance has no Finished backup that ended within D (or its backups could
not be read). Exit 3 when the report could not be read (not configured,
unreachable, 401/403, a refused query, a webhook without the ask ledger).
`

// Bounds of report's --since (the webhook's).
const (
	minReportSince = time.Minute
	maxReportSince = 840 * time.Hour
)

func report(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, d deps) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := clientFlags(fs, getenv)
	since := fs.Duration("since", 24*time.Hour, "list the problems of this long ago and since (1m to 840h)")
	stale := fs.Duration("stale", 0, "exit 1 when an instance has no Finished backup that ended within this long (0: never)")
	instances := fs.String("instances", "", "comma-separated DBInstanceIds (default: your route's exact ids)")
	region := fs.String("region", "", "RegionId (default: the function's region)")
	account := fs.String("account", "", "AccountId of a member account (default: the functions' own)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, code, ok := parse(fs, args, reportHelp, stdout, stderr)
	if !ok {
		return code
	}
	var ids []string
	if *instances != "" {
		ids = strings.Split(*instances, ",")
	}
	ids = append(ids, pos...)
	for _, id := range ids {
		if !backup.ValidInstanceID(id) {
			fmt.Fprintf(stderr, "rdsbackup report: %s is not a DBInstanceId (%s) (rdsbackup report --help)\n", backup.Quote(id, 72), backup.InstanceIdRule)
			return exitUsage
		}
	}
	if *account != "" && !backup.ValidAccountID(*account) {
		fmt.Fprintf(stderr, "rdsbackup report: --account %s: an Alibaba Cloud account id is 16 digits (rdsbackup report --help)\n", backup.Quote(*account, 32))
		return exitUsage
	}
	switch {
	case *since < minReportSince || *since > maxReportSince:
		fmt.Fprintf(stderr, "rdsbackup report: --since %s: must be 1m to 840h (rdsbackup report --help)\n", *since)
		return exitUsage
	case *stale < 0:
		fmt.Fprintf(stderr, "rdsbackup report: --stale %s: must not be negative (rdsbackup report --help)\n", *stale)
		return exitUsage
	}
	c, err := client()
	if err != nil {
		fmt.Fprintln(stderr, "rdsbackup report: could not ask:", err)
		return exitCouldNotAsk
	}
	c.Now = d.now
	r, err := c.Report(ctx, pipeline.ReportQuery{Since: *since, Instances: ids, Region: *region, Account: *account})
	if err != nil {
		if cna := pipeline.CouldNotReach(err, c.URL); cna != nil {
			fmt.Fprintln(stderr, "rdsbackup report:", cna)
		} else {
			fmt.Fprintln(stderr, "rdsbackup report: could not read the report:", err)
		}
		return exitCouldNotAsk
	}
	if *asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintln(stdout, string(b))
	} else {
		printReport(stdout, r)
	}
	if *stale > 0 {
		now := time.Now()
		if d.now != nil {
			now = d.now()
		}
		if s := r.Stale(*stale, now); len(s) > 0 {
			names := make([]string, len(s))
			for i, in := range s {
				names[i] = in.DBInstanceId
			}
			fmt.Fprintf(stderr, "rdsbackup report: stale: no Finished backup within %s: %s\n", *stale, strings.Join(names, ", "))
			return exitRefused
		}
	}
	return exitOK
}

// printReport writes a report as lines: an instance's, then its problems
// indented.
func printReport(w io.Writer, r pipeline.Report) {
	fmt.Fprintf(w, "report since %s\n", stamp(r.Since))
	for _, in := range r.Instances {
		switch {
		case in.Error != nil:
			fmt.Fprintf(w, "%s: could not read its backups: %s: %s\n", in.DBInstanceId, in.Error.Code, in.Error.Message)
		case in.LastFinished == nil:
			fmt.Fprintf(w, "%s: no Finished backup in the last 8 days\n", in.DBInstanceId)
		default:
			f := in.LastFinished
			fmt.Fprintf(w, "%s: last Finished %s %s, backup set %s\n", in.DBInstanceId, stamp(f.BackupEndTime), f.BackupMethod, f.BackupId)
		}
		if len(in.Problems) == 0 {
			fmt.Fprintln(w, "  no refused, failed or deferred ask")
		}
		for _, p := range in.Problems {
			line := fmt.Sprintf("  %s %s", stamp(p.Time), p.Status)
			if p.Code != "" {
				line += " " + p.Code
			}
			if p.BackupMethod != "" {
				line += " (" + p.BackupMethod + ")"
			}
			fmt.Fprintln(w, line)
		}
	}
}
