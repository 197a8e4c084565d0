package config

import (
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
)

const (
	ep  = "BACKUP_MNS_ENDPOINT=https://1234567890123456.mns.cn-hangzhou.aliyuncs.com"
	key = "BACKUP_ENVELOPE_KEY=0123456789abcdef0123456789abcdef"
)

func TestLoadDefaults(t *testing.T) {
	c, err := Load([]string{ep, key, "PATH=/bin", "FC_FUNC_CODE_PATH=/code"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.NotifyQueue != "rds-backup-notify" || c.WorkQueue != "rds-backup-work" || c.NotifyOutcomes != "all" {
		t.Errorf("queues/outcomes defaults wrong: %+v", c)
	}
	if c.FreshFor != 2*time.Second || c.LookHolds != 10*time.Second || !c.TrackJobs || c.RDSConcurrency != 64 || c.MaxBody != 1<<20 || c.ReplayWindow != 5*time.Minute {
		t.Errorf("defaults wrong: %+v", c)
	}
	if c.MaxRequests != 100 {
		t.Errorf("BACKUP_MAX_REQUESTS_PER_CALL default %d, want 100", c.MaxRequests)
	}
	if c.LedgerEndpoint != "" || c.LedgerInstance != "" || c.LedgerTable != "rds_backup_asks" || c.LedgerLease != 150*time.Second {
		t.Errorf("ledger defaults wrong: endpoint %q instance %q table %q lease %v", c.LedgerEndpoint, c.LedgerInstance, c.LedgerTable, c.LedgerLease)
	}
	if c.DeadlineMargin < MinDeadlineMargin {
		t.Errorf("deadline margin %v below the settling time %v", c.DeadlineMargin, MinDeadlineMargin)
	}
}

func TestLoadRefusesBadValues(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want string // a substring naming the variable and the rule
	}{
		{"missing endpoint", nil, "BACKUP_MNS_ENDPOINT: is required"},
		{"endpoint not a URL", []string{"BACKUP_MNS_ENDPOINT=mns.cn-hangzhou"}, `BACKUP_MNS_ENDPOINT="mns.cn-hangzhou": must be an http(s) URL`},
		{"unknown variable", []string{ep, "BACKUP_NOTIFY_QUEU=x"}, "BACKUP_NOTIFY_QUEU: unknown variable"},
		{"bad duration", []string{ep, "BACKUP_FRESH_FOR=10"}, `BACKUP_FRESH_FOR="10": must be a duration`},
		{"margin below the settling time", []string{ep, "BACKUP_DEADLINE_MARGIN=500ms"}, "BACKUP_DEADLINE_MARGIN"},
		{"duration out of range", []string{ep, "BACKUP_MAX_AGE=30s"}, `BACKUP_MAX_AGE="30s"`},
		{"look held too short", []string{ep, "BACKUP_LOOK_HOLDS=10ms"}, `BACKUP_LOOK_HOLDS="10ms"`},
		{"bad number", []string{ep, "BACKUP_RDS_CONCURRENCY=0"}, `BACKUP_RDS_CONCURRENCY="0": must be a whole number from 1 to 256`},
		{"bad enum", []string{ep, "BACKUP_NOTIFY_OUTCOMES=errors"}, `BACKUP_NOTIFY_OUTCOMES="errors": must be one of all, terminal, failures`},
		{"bad queue name", []string{ep, "BACKUP_WORK_QUEUE=work_queue"}, `BACKUP_WORK_QUEUE="work_queue": must be an MNS queue name`},
		{"same queues", []string{ep, "BACKUP_WORK_QUEUE=q", "BACKUP_NOTIFY_QUEUE=q"}, "must differ"},
		{"endpoint with scheme", []string{ep, "BACKUP_RDS_ENDPOINT=http://127.0.0.1:1"}, "BACKUP_RDS_ENDPOINT"},
		{"bad bool", []string{ep, "BACKUP_TRACK_JOBS=maybe"}, `BACKUP_TRACK_JOBS="maybe": must be true or false`},
		{"both routes", []string{ep, "BACKUP_ROUTES={}", "BACKUP_ROUTES_FILE=r.yaml"}, "set one, not both"},
		{"request limit zero", []string{ep, "BACKUP_MAX_REQUESTS_PER_CALL=0"}, `BACKUP_MAX_REQUESTS_PER_CALL="0": must be a whole number from 1 to 5000`},
		{"bad region", []string{ep, "BACKUP_REGION=Hangzhou"}, "BACKUP_REGION"},
		{"region that is a host", []string{ep, "BACKUP_REGION=x@evil.example:443/"}, "BACKUP_REGION"},
		{"allowed region not a region id", []string{ep, "BACKUP_ALLOWED_REGIONS=cn-shanghai,rds.evil.example"}, `BACKUP_ALLOWED_REGIONS: "rds.evil.example": must be a region id`},
		{"allowed region upper case", []string{ep, "BACKUP_ALLOWED_REGIONS=CN-BEIJING"}, `BACKUP_ALLOWED_REGIONS: "CN-BEIJING"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.env, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestAllowedRegions(t *testing.T) {
	tests := []struct {
		value string
		want  []string
	}{
		{"", nil},
		{"cn-shanghai", []string{"cn-shanghai"}},
		{" cn-shanghai , cn-beijing,,cn-shanghai", []string{"cn-shanghai", "cn-beijing"}},
		{"cn-shanghai-finance-1,ap-southeast-1", []string{"cn-shanghai-finance-1", "ap-southeast-1"}},
	}
	for _, tc := range tests {
		c, err := Load([]string{ep, key, "BACKUP_ALLOWED_REGIONS=" + tc.value}, nil)
		if err != nil {
			t.Fatalf("%q: %v", tc.value, err)
		}
		if strings.Join(c.AllowedRegions, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%q: AllowedRegions = %q, want %q", tc.value, c.AllowedRegions, tc.want)
		}
	}
}

// TestEnvelopeKey: the key that seals the work queue's messages is
// required, long enough, and the local cloud's public key only ever applies
// where both endpoints are loopback.
func TestEnvelopeKey(t *testing.T) {
	const prev = "fedcba9876543210fedcba9876543210"
	local := []string{"BACKUP_MNS_ENDPOINT=http://127.0.0.1:4000/.", "BACKUP_RDS_ENDPOINT=127.0.0.1:4001"}
	tests := []struct {
		name  string
		env   []string
		want  string // the error, or "" for none
		local bool
	}{
		{"deployed without a key", []string{ep}, "BACKUP_ENVELOPE_KEY: is required", false},
		{"deployed with a short key", []string{ep, "BACKUP_ENVELOPE_KEY=short"}, "BACKUP_ENVELOPE_KEY: 5 characters, at least 32", false},
		{"deployed with a key", []string{ep, key}, "", false},
		{"deployed with the local cloud's public key", []string{ep, "BACKUP_ENVELOPE_KEY=" + LocalEnvelopeKey}, "the local cloud's public key", false},
		{"real RDS, loopback MNS, no key", []string{"BACKUP_MNS_ENDPOINT=http://127.0.0.1:4000/."}, "BACKUP_ENVELOPE_KEY: is required", false},
		{"real MNS, loopback RDS, no key", []string{ep, "BACKUP_RDS_ENDPOINT=127.0.0.1:4001"}, "BACKUP_ENVELOPE_KEY: is required", false},
		{"local cloud without a key", local, "", true},
		{"local cloud, localhost", []string{"BACKUP_MNS_ENDPOINT=http://localhost:4000/.", "BACKUP_RDS_ENDPOINT=[::1]:4001"}, "", true},
		{"local cloud with a key of its own", append(local, key), "", false},
		{"a short previous key", []string{ep, key, "BACKUP_ENVELOPE_KEY_PREVIOUS=old"}, "BACKUP_ENVELOPE_KEY_PREVIOUS: 3 characters, at least 32", false},
		{"a short previous key of 31", []string{ep, key, "BACKUP_ENVELOPE_KEY_PREVIOUS=" + prev[:31]}, "BACKUP_ENVELOPE_KEY_PREVIOUS: 31 characters, at least 32", false},
		{"deployed with a previous key", []string{ep, key, "BACKUP_ENVELOPE_KEY_PREVIOUS=" + prev}, "", false},
		// Issue 19 item 7: the previous key opens envelopes too, so the
		// public local key there reopened forgery in a real deployment.
		{"deployed with the local cloud's public key as the previous key", []string{ep, key, "BACKUP_ENVELOPE_KEY_PREVIOUS=" + LocalEnvelopeKey}, "BACKUP_ENVELOPE_KEY_PREVIOUS: is the local cloud's public key", false},
		{"real MNS, loopback RDS, the public key as the previous key", []string{ep, "BACKUP_RDS_ENDPOINT=127.0.0.1:4001", key, "BACKUP_ENVELOPE_KEY_PREVIOUS=" + LocalEnvelopeKey}, "BACKUP_ENVELOPE_KEY_PREVIOUS: is the local cloud's public key", false},
		{"local cloud rotating away from the public key", append(local, key, "BACKUP_ENVELOPE_KEY_PREVIOUS="+LocalEnvelopeKey), "", false},
		{"a previous key equal to the key", []string{ep, key, "BACKUP_ENVELOPE_KEY_PREVIOUS=" + strings.TrimPrefix(key, "BACKUP_ENVELOPE_KEY=")}, "BACKUP_ENVELOPE_KEY_PREVIOUS: equals BACKUP_ENVELOPE_KEY", false},
		{"local cloud, the public key twice", append(local, "BACKUP_ENVELOPE_KEY_PREVIOUS="+LocalEnvelopeKey), "BACKUP_ENVELOPE_KEY_PREVIOUS: equals BACKUP_ENVELOPE_KEY", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.env, nil)
			switch {
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want %q", err, tc.want)
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want == "" && (c.EnvelopeKeyLocal != tc.local || len(c.EnvelopeKey) < 32):
				t.Fatalf("key local=%v len=%d", c.EnvelopeKeyLocal, len(c.EnvelopeKey))
			}
			for _, kv := range tc.env {
				name, v, _ := strings.Cut(kv, "=")
				if err != nil && strings.HasPrefix(name, "BACKUP_ENVELOPE_KEY") && len(v) >= 8 && strings.Contains(err.Error(), v[:8]) {
					t.Fatalf("an error repeats %s's value: %v", name, err)
				}
			}
		})
	}
}

func TestRoutesFile(t *testing.T) {
	read := func(p string) ([]byte, error) { return []byte("routes: []"), nil }
	c, err := Load([]string{ep, key, "BACKUP_ROUTES_FILE=/etc/routes.yaml"}, read)
	if err != nil || string(c.Routes) != "routes: []" {
		t.Fatalf("Routes = %q, err %v", c.Routes, err)
	}
}

// TestLedger: the ask ledger's four variables. Without an endpoint there is
// no ledger; with one, the instance is required; the endpoint is https
// (http only on loopback), the names follow Tablestore's rules, and the
// lease is positive.
func TestLedger(t *testing.T) {
	const (
		real  = "BACKUP_LEDGER_ENDPOINT=https://rds-asks.cn-hangzhou.ots.aliyuncs.com"
		inst  = "BACKUP_LEDGER_INSTANCE=rds-asks"
		local = "BACKUP_LEDGER_ENDPOINT=http://127.0.0.1:40117"
	)
	tests := []struct {
		name string
		env  []string
		want string // the error (naming the variable and the rule), or "" for none
	}{
		{"no ledger", nil, ""},
		{"an instance without an endpoint is ignored", []string{inst}, ""},
		{"deployed", []string{real, inst}, ""},
		{"VPC endpoint", []string{"BACKUP_LEDGER_ENDPOINT=https://rds-asks.cn-hangzhou.vpc.tablestore.aliyuncs.com", inst}, ""},
		{"instance in another case", []string{real, "BACKUP_LEDGER_INSTANCE=RDS-Asks"}, ""},
		{"local cloud over http", []string{local, "BACKUP_LEDGER_INSTANCE=fc-rds-backup"}, ""},
		{"localhost over http", []string{"BACKUP_LEDGER_ENDPOINT=http://localhost:1", "BACKUP_LEDGER_INSTANCE=fc-rds-backup"}, ""},
		{"own table and lease", []string{real, inst, "BACKUP_LEDGER_TABLE=asks_2", "BACKUP_LEDGER_LEASE=10m"}, ""},
		{"endpoint without instance", []string{real}, "BACKUP_LEDGER_INSTANCE: is required with BACKUP_LEDGER_ENDPOINT"},
		{"http off loopback", []string{"BACKUP_LEDGER_ENDPOINT=http://rds-asks.cn-hangzhou.ots.aliyuncs.com", inst}, `BACKUP_LEDGER_ENDPOINT="http://rds-asks.cn-hangzhou.ots.aliyuncs.com": must use https (http only on a loopback address`},
		{"not a URL", []string{"BACKUP_LEDGER_ENDPOINT=rds-asks.cn-hangzhou.ots.aliyuncs.com", inst}, `BACKUP_LEDGER_ENDPOINT="rds-asks.cn-hangzhou.ots.aliyuncs.com": must be a URL`},
		{"other scheme", []string{"BACKUP_LEDGER_ENDPOINT=tcp://127.0.0.1:1", inst}, "BACKUP_LEDGER_ENDPOINT=\"tcp://127.0.0.1:1\": must be a URL"},
		{"trailing slash", []string{"BACKUP_LEDGER_ENDPOINT=https://rds-asks.cn-hangzhou.ots.aliyuncs.com/", inst}, "BACKUP_LEDGER_ENDPOINT=\"https://rds-asks.cn-hangzhou.ots.aliyuncs.com/\": must be scheme and host only"},
		{"query", []string{"BACKUP_LEDGER_ENDPOINT=https://rds-asks.cn-hangzhou.ots.aliyuncs.com?x=1", inst}, "must be scheme and host only"},
		{"instance too short", []string{real, "BACKUP_LEDGER_INSTANCE=ab"}, `BACKUP_LEDGER_INSTANCE="ab": must be a Tablestore instance name: 3-16`},
		{"instance too long", []string{local, "BACKUP_LEDGER_INSTANCE=abcdefghijklmnopq"}, `BACKUP_LEDGER_INSTANCE="abcdefghijklmnopq": must be a Tablestore instance name`},
		{"instance starting with a digit", []string{local, "BACKUP_LEDGER_INSTANCE=1asks"}, "BACKUP_LEDGER_INSTANCE=\"1asks\": must be a Tablestore instance name"},
		{"instance ending with a hyphen", []string{local, "BACKUP_LEDGER_INSTANCE=asks-"}, "BACKUP_LEDGER_INSTANCE=\"asks-\": must be a Tablestore instance name"},
		{"instance with an underscore", []string{local, "BACKUP_LEDGER_INSTANCE=rds_asks"}, "BACKUP_LEDGER_INSTANCE=\"rds_asks\": must be a Tablestore instance name"},
		{"instance the endpoint does not name", []string{real, "BACKUP_LEDGER_INSTANCE=other-asks"}, `BACKUP_LEDGER_INSTANCE="other-asks": differs from the instance BACKUP_LEDGER_ENDPOINT's host names`},
		{"table with a hyphen", []string{"BACKUP_LEDGER_TABLE=rds-asks"}, `BACKUP_LEDGER_TABLE="rds-asks": must be a Tablestore table name`},
		{"table starting with a digit", []string{"BACKUP_LEDGER_TABLE=1asks"}, `BACKUP_LEDGER_TABLE="1asks": must be a Tablestore table name`},
		{"table too long", []string{"BACKUP_LEDGER_TABLE=" + strings.Repeat("a", 256)}, "BACKUP_LEDGER_TABLE="},
		{"zero lease", []string{"BACKUP_LEDGER_LEASE=0s"}, `BACKUP_LEDGER_LEASE="0s": must be a duration like 150s, more than 0`},
		{"negative lease", []string{"BACKUP_LEDGER_LEASE=-1m"}, `BACKUP_LEDGER_LEASE="-1m"`},
		{"lease without a unit", []string{"BACKUP_LEDGER_LEASE=150"}, `BACKUP_LEDGER_LEASE="150"`},
		{"lease too long", []string{"BACKUP_LEDGER_LEASE=25h"}, `BACKUP_LEDGER_LEASE="25h"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(append([]string{ep, key}, tc.env...), nil)
			switch {
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want %q", err, tc.want)
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "":
				return
			}
			var wantEP, wantInst string
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "BACKUP_LEDGER_ENDPOINT":
					wantEP = v
				case "BACKUP_LEDGER_INSTANCE":
					wantInst = v
				}
			}
			if wantEP == "" {
				wantInst = "" // no ledger: the instance is not taken
			}
			if c.LedgerEndpoint != wantEP || c.LedgerInstance != wantInst || c.LedgerTable == "" || c.LedgerLease <= 0 {
				t.Errorf("ledger: endpoint %q instance %q table %q lease %v", c.LedgerEndpoint, c.LedgerInstance, c.LedgerTable, c.LedgerLease)
			}
		})
	}
}

// TestLedgerEndpointWithUserInfoIsNotRepeated: an endpoint carrying a
// password is refused without echoing it.
func TestLedgerEndpointWithUserInfoIsNotRepeated(t *testing.T) {
	_, err := Load([]string{ep, key, "BACKUP_LEDGER_ENDPOINT=https://ak:s3cr3t-value@rds-asks.cn-hangzhou.ots.aliyuncs.com", "BACKUP_LEDGER_INSTANCE=rds-asks"}, nil)
	if err == nil || !strings.Contains(err.Error(), "BACKUP_LEDGER_ENDPOINT: must not carry user info") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("the error repeats the password: %v", err)
	}
}

// TestLedgerLeaseDefaultIsTheLedgers: BACKUP_LEDGER_LEASE's default is
// ledger.DefaultLease (written out in Vars, so that config does not import
// the ledger).
func TestLedgerLeaseDefaultIsTheLedgers(t *testing.T) {
	c, err := Load([]string{ep, key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.LedgerLease != ledger.DefaultLease {
		t.Fatalf("BACKUP_LEDGER_LEASE defaults to %v, ledger.DefaultLease is %v", c.LedgerLease, ledger.DefaultLease)
	}
}

// TestMemberAccounts: the settings of plans across accounts (DESIGN.md
// §10) are config.Load's, held to their grammar, each error naming the
// variable and the rule; the ExternalId's value is never repeated.
func TestMemberAccounts(t *testing.T) {
	const ext = "BACKUP_MEMBER_EXTERNAL_ID=ext-123"
	c, err := Load([]string{ep, key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.AllowedAccounts != nil || c.MemberRole != "fc-rds-backup-member" || c.MemberExternalID != "" || c.STSEndpoint != "" || c.MaxFanout != 100 {
		t.Errorf("defaults: accounts %v role %q sts %q fanout %d", c.AllowedAccounts, c.MemberRole, c.STSEndpoint, c.MaxFanout)
	}
	c, err = Load([]string{ep, key, ext, "BACKUP_ALLOWED_ACCOUNTS= 3000000000000003, 2000000000000002,,3000000000000003",
		"BACKUP_MEMBER_ROLE=Backup.Member", "BACKUP_STS_ENDPOINT=http://127.0.0.1:4100", "BACKUP_MAX_FANOUT=6"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.AllowedAccounts, ",") != "2000000000000002,3000000000000003" || c.MemberRole != "Backup.Member" || c.MemberExternalID != "ext-123" || c.MaxFanout != 6 {
		t.Errorf("loaded: accounts %v role %q fanout %d", c.AllowedAccounts, c.MemberRole, c.MaxFanout)
	}
	if !c.AllowsAccount("3000000000000003") || c.AllowsAccount("4000000000000004") {
		t.Error("AllowsAccount disagrees with BACKUP_ALLOWED_ACCOUNTS")
	}
	if host, proto := c.STS(); host != "127.0.0.1:4100" || proto != "http" {
		t.Errorf("STS() = %q, %q", host, proto)
	}
	const secretExt = "s3cr3t-external-id"
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"account not 16 digits", []string{ep, key, ext, "BACKUP_ALLOWED_ACCOUNTS=2000000000000002,12345"}, `BACKUP_ALLOWED_ACCOUNTS: "12345": must be an Alibaba Cloud account id: 16 digits`},
		{"accounts without an ExternalId", []string{ep, key, "BACKUP_ALLOWED_ACCOUNTS=2000000000000002"}, "BACKUP_MEMBER_EXTERNAL_ID: is required when BACKUP_ALLOWED_ACCOUNTS names accounts"},
		{"role name with a slash", []string{ep, key, "BACKUP_MEMBER_ROLE=admin/role"}, `BACKUP_MEMBER_ROLE: "admin/role": must be a RAM role name`},
		{"ExternalId with a space", []string{ep, key, "BACKUP_MEMBER_EXTERNAL_ID=" + secretExt + " x"}, "BACKUP_MEMBER_EXTERNAL_ID: (value not shown, 20 characters): must be 2 to 1224"},
		{"STS over http off loopback", []string{ep, key, "BACKUP_STS_ENDPOINT=http://sts.cn-hangzhou.aliyuncs.com"}, `BACKUP_STS_ENDPOINT="http://sts.cn-hangzhou.aliyuncs.com": must use https`},
		{"STS endpoint with a path", []string{ep, key, "BACKUP_STS_ENDPOINT=https://sts.cn-hangzhou.aliyuncs.com/x"}, "must be scheme and host only"},
		{"STS endpoint not a URL", []string{ep, key, "BACKUP_STS_ENDPOINT=sts.cn-hangzhou.aliyuncs.com"}, "must be a URL like https://sts."},
		{"STS endpoint with user info", []string{ep, key, "BACKUP_STS_ENDPOINT=https://u:pw@sts.cn-hangzhou.aliyuncs.com"}, "BACKUP_STS_ENDPOINT: must not carry user info"},
		{"fan-out zero", []string{ep, key, "BACKUP_MAX_FANOUT=0"}, `BACKUP_MAX_FANOUT="0": must be a whole number from 1 to 1000`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.env, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secretExt) || strings.Contains(err.Error(), "pw@") {
				t.Errorf("the error repeats a secret: %v", err)
			}
		})
	}
}

// TestMemberRoleDefaultIsTheBrokers: BACKUP_MEMBER_ROLE's default is the
// role the deploy tooling's policies name.
func TestMemberRoleDefaultIsTheBrokers(t *testing.T) {
	c, err := Load([]string{ep, key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.MemberRole != memberauth.DefaultRole {
		t.Errorf("BACKUP_MEMBER_ROLE default %q, memberauth.DefaultRole %q", c.MemberRole, memberauth.DefaultRole)
	}
}
