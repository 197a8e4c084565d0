package workqueue

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

var (
	testKey       = []byte("test-envelope-key-0123456789abcdef")
	testSealer, _ = NewSealer(testKey)
)

// TestSealRoundTrip: every kind is sealed over its whole body and opens to
// the same message.
func TestSealRoundTrip(t *testing.T) {
	for _, m := range []Message{
		Backup(req("rm-1"), nil, t0),
		Track(req("rm-1"), "1234", t0),
		Outcome([]byte(`{"specversion":"1.0","id":"x","type":"rds.backup.completed"}`)),
		Plan(reqs("rm-1", "rm-2")),
		Select(sel(), spec(), req("rm-1").Trigger, t0, t0),
	} {
		body, err := testSealer.Seal(m)
		if err != nil {
			t.Fatalf("%s: %v", m.Kind, err)
		}
		if !strings.HasSuffix(body, `"}`) || !strings.Contains(body, `,"mac":"`) || !json.Valid([]byte(body)) {
			t.Fatalf("%s: sealed body %s", m.Kind, body)
		}
		got, err := testSealer.Open([]byte(body))
		if err != nil || got.Kind != m.Kind {
			t.Fatalf("%s: Open = %+v, %v", m.Kind, got, err)
		}
		// Decode (tests and tools) reads a sealed body too, unchecked.
		if got, err := Decode([]byte(body)); err != nil || got.Kind != m.Kind {
			t.Fatalf("%s: Decode of a sealed body = %v", m.Kind, err)
		}
	}
}

// TestForgedEnvelopesAreNotOpened is issue 12's forgery: anyone allowed to
// send a backup request to the work queue could write the functions' own
// envelopes. An unsigned envelope, one signed with another key, and a
// genuine one altered in any member are all refused.
func TestForgedEnvelopesAreNotOpened(t *testing.T) {
	fakeCompleted := Outcome([]byte(`{"specversion":"1.0","id":"fake","source":"fc-rds-backup/queue","type":"rds.backup.completed","subject":"rm-prod-1"}`))
	track := Track(req("rm-prod-1"), "1234", t0)
	unsigned := func(m Message) string { b, _ := Encode(m); return b }
	otherKey, _ := NewSealer([]byte("an-attackers-guess-at-the-key-0123456789"))
	other := func(m Message) string { b, _ := otherKey.Seal(m); return b }
	genuine, _ := testSealer.Seal(track)
	tests := map[string]string{
		"unsigned outcome (a fake completed)":  unsigned(fakeCompleted),
		"unsigned track (polls any job)":       unsigned(track),
		"outcome sealed with another key":      other(fakeCompleted),
		"track sealed with another key":        other(track),
		"genuine track, job id altered":        strings.Replace(genuine, `"backupJobId":"1234"`, `"backupJobId":"9999"`, 1),
		"genuine track, instance altered":      strings.Replace(genuine, `"rm-prod-1"`, `"rm-prod-2"`, 1),
		"genuine track, member added":          strings.Replace(genuine, `{"v":1,`, `{"v":1,"note":"x",`, 1),
		"genuine track, seal truncated":        genuine[:len(genuine)-4] + `"}`,
		"genuine track, seal moved":            strings.Replace(genuine, `"kind":"track",`, `"kind":"track","mac":"00",`, 1),
		"seal of nothing":                      `{"mac":"` + strings.Repeat("0", 64) + `"}`,
		"a user's backup request":              `{"DBInstanceId":"rm-prod-1"}`,
		"whitespace after the seal is trimmed": genuine + "  \n", // still genuine: see below
	}
	for name, body := range tests {
		_, err := testSealer.Open([]byte(body))
		if name == "whitespace after the seal is trimmed" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: Open = %v, want ErrUnauthenticated", name, err)
		}
	}
}

// During a key rotation the previous key still opens; it never seals.
func TestSealerRotation(t *testing.T) {
	oldKey := []byte("the-previous-envelope-key-0123456789")
	old, _ := NewSealer(oldKey)
	rotated, err := NewSealer(testKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	m := Track(req("rm-1"), "1", t0)
	byOld, _ := old.Seal(m)
	if _, err := rotated.Open([]byte(byOld)); err != nil {
		t.Fatalf("a message sealed before the rotation: %v", err)
	}
	byNew, _ := rotated.Seal(m)
	if _, err := testSealer.Open([]byte(byNew)); err != nil {
		t.Fatalf("the new key seals: %v", err)
	}
	if _, err := old.Open([]byte(byNew)); !errors.Is(err, ErrUnauthenticated) {
		t.Fatal("the previous key must not be what seals")
	}
	if _, err := NewSealer([]byte("short")); err == nil {
		t.Fatal("a key under 32 bytes must be refused")
	}
}

// A message that fits MaxBytes once sealed: Encode leaves room for the seal.
func TestSealedMessagesFitMNS(t *testing.T) {
	big := make([]Message, 0, 1)
	r := reqs("rm-1")
	for i := 0; len(r) < 2000; i++ {
		r = append(r, req("rm-"+strings.Repeat("x", 20)+itoa(i)))
	}
	chunks, err := SplitPlan(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	big = append(big, chunks...)
	for _, m := range big {
		body, err := testSealer.Seal(m)
		if err != nil || len(body) > MaxBytes {
			t.Fatalf("sealed chunk of %d bytes: %v", len(body), err)
		}
	}
}

// FuzzOpen: whatever the bytes, Open opens only the genuine envelope.
func FuzzOpen(f *testing.F) {
	genuine, _ := testSealer.Seal(Track(req("rm-1"), "1", t0))
	for _, s := range []string{genuine, `{"v":1,"kind":"backup"}`, `{"mac":"00"}`, ``, `"}`, genuine[:len(genuine)-3] + `0"}`} {
		f.Add([]byte(s))
	}
	want := Unseal([]byte(genuine))
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := testSealer.Open(body); err == nil && !bytes.Equal(Unseal(bytes.TrimSpace(body)), want) {
			t.Fatalf("opened %q", body)
		}
	})
}

func reqs(ids ...string) []backup.Request {
	out := make([]backup.Request, len(ids))
	for i, id := range ids {
		out[i] = req(id)
	}
	return out
}

func sel() backup.Selector { return backup.Selector{RegionId: "cn-hangzhou", Engine: "MySQL"} }
func spec() backup.Spec    { return backup.Spec{BackupMethod: "Physical"} }
func itoa(i int) string    { return strconv.Itoa(i) }
