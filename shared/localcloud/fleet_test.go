package localcloud

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rdssdk "github.com/alibabacloud-go/rds-20140815/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

func writeFleet(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fleet.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFleetRDSKeys: the keys of issue 17 decode, at the top level and per
// instance, and backupSeconds takes a number or an object.
func TestFleetRDSKeys(t *testing.T) {
	f, err := LoadFleet(writeFleet(t, `{"region":"cn-shanghai",
	  "backupSeconds":{"Snapshot":5,"Physical":120},
	  "setLagSeconds":30,
	  "quotas":{"CreateBackup":10,"DescribeBackups":200},
	  "instances":[
	    {"DBInstanceId":"rm-a","AccountId":"2000000000000002","setLagSeconds":0,"backupSeconds":7,
	     "automatedBackup":{"at":"02:00","method":"Snapshot","seconds":600}},
	    {"DBInstanceId":"rm-b","DBInstanceType":"Readonly","MasterInstanceId":"rm-a","backupSeconds":{"Logical":3}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.BackupSeconds != 0 || f.BackupSecondsByMethod["Snapshot"] != 5 || f.BackupSecondsByMethod["Physical"] != 120 {
		t.Errorf("backupSeconds = %v / %v", f.BackupSeconds, f.BackupSecondsByMethod)
	}
	if f.SetLagSeconds == nil || *f.SetLagSeconds != 30 || f.setLag() != 30*time.Second {
		t.Errorf("setLagSeconds = %v", f.SetLagSeconds)
	}
	if f.Quotas["CreateBackup"] != 10 || f.Quotas["DescribeBackups"] != 200 || len(f.Quotas) != 2 {
		t.Errorf("quotas = %v", f.Quotas)
	}
	a, b := f.Instances[0], f.Instances[1]
	if a.AccountId != "2000000000000002" || a.SetLagSeconds == nil || *a.SetLagSeconds != 0 || a.BackupSeconds[""] != 7 ||
		a.AutomatedBackup == nil || *a.AutomatedBackup != (rds.AutomatedBackup{At: "02:00", Method: "Snapshot", Seconds: 600}) {
		t.Errorf("instance a = %+v", a)
	}
	if b.MasterInstanceId != "rm-a" || b.BackupSeconds["Logical"] != 3 || b.SetLagSeconds != nil || b.RegionId != "cn-shanghai" {
		t.Errorf("instance b = %+v", b)
	}

	// A number is every method's duration; absent keys take the defaults:
	// a 60 s set lag, no flow control.
	f, err = LoadFleet(writeFleet(t, `{"backupSeconds":8,"instances":[{"DBInstanceId":"rm-a"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.BackupSeconds != 8 || f.BackupSecondsByMethod != nil || f.SetLagSeconds != nil || f.setLag() != 60*time.Second || f.Quotas != nil {
		t.Errorf("defaults: %+v, lag %v", f, f.setLag())
	}
	if (Fleet{}).setLag() != 60*time.Second {
		t.Errorf("a Go fleet without SetLagSeconds has lag %v, want 60s", (Fleet{}).setLag())
	}
}

// TestFleetRDSKeysBadValues: a wrong value is refused with the field named.
func TestFleetRDSKeysBadValues(t *testing.T) {
	for body, want := range map[string]string{
		`{"setLagSeconds":-1}`:                                                                  "setLagSeconds: must be a number of seconds",
		`{"setLagSeconds":"60"}`:                                                                "setLagSeconds",
		`{"backupSeconds":{"Snapshop":5}}`:                                                      "backupSeconds: Snapshop: not a BackupMethod",
		`{"backupSeconds":{"Snapshot":-5}}`:                                                     "backupSeconds: Snapshot: must be a number of seconds",
		`{"backupSeconds":"fast"}`:                                                              "backupSeconds: want seconds",
		`{"quotas":{"CreateBackups":10}}`:                                                       "quotas: CreateBackups: unknown RDS action",
		`{"quotas":{"CreateBackup":-1}}`:                                                        "quotas: CreateBackup: must be calls per second",
		`{"quota":{"CreateBackup":1}}`:                                                          `unknown field "quota"`,
		`{"instances":[{"DBInstanceId":"rm-a","setLagSeconds":-2}]}`:                            "instances[0] (rm-a): setLagSeconds: must be",
		`{"instances":[{"DBInstanceId":"rm-a","backupSeconds":{"Fast":1}}]}`:                    "instances[0] (rm-a): backupSeconds: Fast: not a BackupMethod",
		`{"instances":[{"DBInstanceId":"rm-a","automatedBackup":{"at":"25:00"}}]}`:              "instances[0] (rm-a): automatedBackup: at: want the time of day as HH:MM",
		`{"instances":[{"DBInstanceId":"rm-a","automatedBackup":{"at":"02:00","method":"X"}}]}`: "instances[0] (rm-a): automatedBackup: method:",
		`{"instances":[{"DBInstanceId":"rm-a","automatedBackup":{"at":"02:00","secs":1}}]}`:     `unknown field "secs"`,
		`{"instances":[{"DBInstanceId":"rm-a","MasterInstanceId":"rm-x"}]}`:                     `instances[0] (rm-a): MasterInstanceId: "rm-x" is not another instance`,
		`{"faults":[{"action":"CreateBackup","empty":true}]}`:                                   "empty: only for action DescribeDBInstanceAttribute",
	} {
		path := writeFleet(t, body)
		if _, err := LoadFleet(path); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadFleet(%s) = %v, want an error naming %s and %q", body, err, path, want)
		}
	}
}

// TestFleetTestdataLoads: the fleet files of testdata/ still load.
func TestFleetTestdataLoads(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(root, "testdata", "fleet", "*.json"))
	if len(paths) == 0 {
		t.Fatal("no fleet files in testdata/fleet")
	}
	for _, p := range paths {
		f, err := LoadFleet(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		// backupSeconds: a number, or seconds per method (demo.json since e7b3ebd).
		if len(f.Instances) == 0 || (f.BackupSeconds <= 0 && len(f.BackupSecondsByMethod) == 0) || f.setLag() != 60*time.Second {
			t.Errorf("%s: %d instances, backupSeconds %v (per method %v), lag %v", p, len(f.Instances), f.BackupSeconds, f.BackupSecondsByMethod, f.setLag())
		}
	}
}

// TestFleetMarshalRoundTrip: backupSeconds is written back in the form it
// was read.
func TestFleetMarshalRoundTrip(t *testing.T) {
	for _, in := range []string{
		`{"backupSeconds":{"Snapshot":5},"instances":[]}`,
		`{"backupSeconds":12,"instances":[]}`,
	} {
		var f Fleet
		if err := json.Unmarshal([]byte(in), &f); err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		var g Fleet
		if err := json.Unmarshal(out, &g); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if g.BackupSeconds != f.BackupSeconds || len(g.BackupSecondsByMethod) != len(f.BackupSecondsByMethod) ||
			g.BackupSecondsByMethod["Snapshot"] != f.BackupSecondsByMethod["Snapshot"] {
			t.Errorf("%s → %s → %+v", in, out, g)
		}
	}
}

// TestFleetConfiguresRDS: StartCloud gives the RDS emulator the fleet's keys:
// a 5-second Snapshot, the set 60 s (the default lag) after it, and the
// fleet's CreateBackup quota answered with 400 Throttling.Api.
func TestFleetConfiguresRDS(t *testing.T) {
	clock := rds.NewFakeClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	fleet := Fleet{Region: "cn-hangzhou", BackupSecondsByMethod: rds.MethodSeconds{"Snapshot": 5},
		Quotas:    map[string]float64{"CreateBackup": 1},
		Instances: []rds.Instance{{DBInstanceId: "rm-a"}, {DBInstanceId: "rm-b"}, {DBInstanceId: "rm-other", AccountId: "2000000000000002"}}}
	c, err := StartCloud(fleet, Options{RDSClock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cli := rdsClient(t, c)
	resp, err := cli.CreateBackup(&rdssdk.CreateBackupRequest{DBInstanceId: tea.String("rm-a"), BackupMethod: tea.String("Snapshot")})
	if err != nil {
		t.Fatal(err)
	}
	if code, status := sdkCode(createBackup(cli, "rm-b")); code != "Throttling.Api" || status != 400 {
		t.Fatalf("second CreateBackup in the same second: %s %d, want Throttling.Api 400", code, status)
	}
	clock.Advance(5 * time.Second)
	n, _ := parseInt32(tea.StringValue(resp.Body.BackupJobId))
	tasks, err := cli.DescribeBackupTasks(&rdssdk.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-a"), BackupJobId: tea.Int32(n)})
	if err != nil || tea.StringValue(tasks.Body.Items.BackupJob[0].BackupStatus) != "Finished" {
		t.Fatalf("after 5 s: %v %v", tasks, err)
	}
	if sets := c.RDS.Backups("rm-a"); len(sets) != 0 {
		t.Fatalf("sets at the end of the task: %v, want none (60 s lag)", sets)
	}
	clock.Advance(60 * time.Second)
	if sets := c.RDS.Backups("rm-a"); len(sets) != 1 || sets[0].BackupMethod != "Snapshot" {
		t.Fatalf("sets 60 s later: %v", sets)
	}
	// The user's key is of the default account: another account's instance
	// does not exist for it.
	if c.User.Account() != auth.DefaultAccountID {
		t.Fatalf("user account %s", c.User.Account())
	}
	if code, status := sdkCode(attribute(cli, "rm-other")); code != "InvalidDBInstanceId.NotFound" || status != 404 {
		t.Fatalf("another account's instance: %s %d", code, status)
	}
}

func parseInt32(s string) (int32, bool) {
	var n int32
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int32(c-'0')
	}
	return n, true
}

// TestFleetAccountsAndRegions: a fleet of several accounts and regions
// gives the functions what a deployment across them has: its member
// accounts (the accounts of its roles and instances, or allowedAccounts),
// the ExternalId the roles expect (or memberExternalId), the regions of its
// instances and the STS emulator's endpoint; a fleet of one account and
// region gives none of the member settings.
func TestFleetAccountsAndRegions(t *testing.T) {
	f, err := LoadFleet(writeFleet(t, `{"region":"cn-hangzhou",
	  "roles":[{"accountId":"2000000000000002","name":"fc-rds-backup-member","externalId":"ext-1","trusted":["1234567890123456"]},
	           {"accountId":"3000000000000003","name":"fc-rds-backup-member","externalId":"ext-1","trusted":["1234567890123456"]}],
	  "instances":[{"DBInstanceId":"rm-own"},
	    {"DBInstanceId":"rm-a","AccountId":"2000000000000002","RegionId":"cn-shanghai"},
	    {"DBInstanceId":"rm-c","AccountId":"5000000000000005","RegionId":"cn-beijing"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Members(), ","); got != "2000000000000002,3000000000000003,5000000000000005" {
		t.Errorf("Members() = %s, want the roles' and instances' accounts but the own", got)
	}
	if f.ExternalID() != "ext-1" || strings.Join(f.Regions(), ",") != "cn-beijing,cn-shanghai" {
		t.Errorf("ExternalID() %q, Regions() %v", f.ExternalID(), f.Regions())
	}
	c, err := StartCloud(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	env := strings.Join(c.FunctionEnv(), "\n") + "\n"
	for _, want := range []string{
		"BACKUP_ALLOWED_ACCOUNTS=2000000000000002,3000000000000003,5000000000000005\n",
		"BACKUP_MEMBER_EXTERNAL_ID=ext-1\n",
		"BACKUP_ALLOWED_REGIONS=cn-beijing,cn-shanghai\n",
		"BACKUP_STS_ENDPOINT=http://" + c.STS.Endpoint() + "\n",
	} {
		if !strings.Contains(env, want) {
			t.Errorf("FunctionEnv lacks %q:\n%s", want, env)
		}
	}

	// allowedAccounts and memberExternalId override: a role expecting
	// another ExternalId stands for a member set up wrong.
	f, err = LoadFleet(writeFleet(t, `{"allowedAccounts":["3000000000000003"],"memberExternalId":"ext-1",
	  "roles":[{"accountId":"2000000000000002","name":"r","externalId":"ext-1"},{"accountId":"3000000000000003","name":"r","externalId":"ext-2"}],
	  "instances":[{"DBInstanceId":"rm-a","AccountId":"2000000000000002"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Members(), ","); got != "3000000000000003" || f.ExternalID() != "ext-1" || f.Regions() != nil {
		t.Errorf("Members() %s, ExternalID() %q, Regions() %v", got, f.ExternalID(), f.Regions())
	}
	// Roles that expect none: the default.
	if got := (Fleet{Instances: []rds.Instance{{DBInstanceId: "rm-a", AccountId: "2000000000000002"}}}).ExternalID(); got != DefaultMemberExternalID {
		t.Errorf("ExternalID() without roles = %q, want %q", got, DefaultMemberExternalID)
	}

	// One account and region: no member settings.
	c1, err := StartCloud(Fleet{Region: "cn-hangzhou", Instances: []rds.Instance{{DBInstanceId: "rm-own", RegionId: "cn-hangzhou"}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c1.Close)
	for _, v := range c1.FunctionEnv() {
		for _, k := range []string{"BACKUP_ALLOWED_ACCOUNTS=", "BACKUP_MEMBER_EXTERNAL_ID=", "BACKUP_ALLOWED_REGIONS="} {
			if strings.HasPrefix(v, k) {
				t.Errorf("a fleet of one account and region gives %s", v)
			}
		}
	}
}

// TestFleetMemberKeysBadValues: a wrong member key is refused with the
// field named; the ExternalId is never repeated in the error.
func TestFleetMemberKeysBadValues(t *testing.T) {
	for body, want := range map[string]string{
		`{"allowedAccounts":["20000000002"]}`: `allowedAccounts[0]: must be an account id, 16 digits, got "20000000002"`,
		`{"memberExternalId":"sec ret!"}`:     "memberExternalId: must be 2 to 1224 characters",
		`{"memberExternalId":"x"}`:            "memberExternalId: must be 2 to 1224 characters",
		`{"roles":[{"accountId":"2000000000000002","name":"r","externalId":"ext-1"},{"accountId":"3000000000000003","name":"r","externalId":"ext-2"}]}`: "memberExternalId: the fleet's roles expect different ExternalIds",
	} {
		path := writeFleet(t, body)
		_, err := LoadFleet(path)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadFleet(%s) = %v, want an error naming %s and %q", body, err, path, want)
		}
		if err != nil && (strings.Contains(err.Error(), "sec ret") || strings.Contains(err.Error(), "ext-2")) {
			t.Errorf("the error repeats an ExternalId: %v", err)
		}
	}
}
