package config

import (
	"strings"
	"testing"
	"time"
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
