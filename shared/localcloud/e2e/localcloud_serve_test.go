package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
)

// serveInfo is the line `devstack serve` prints (DESIGN.md §7).
type serveInfo struct {
	RDSEndpoint, MNSEndpoint, WebhookURL, AdminURL, AccessKeyID, AccessKeySecret string
	TablestoreEndpoint, TablestoreInstance, STSEndpoint, STSProtocol             string
	Queues                                                                       map[string]string
}

// serve runs `devstack serve --quiet args...` until the test ends and
// returns its line; at the end it interrupts the command, which must exit
// cleanly.
func serve(t *testing.T, args ...string) serveInfo {
	t.Helper()
	cmd := exec.Command(devstackBinary(t), append([]string{"serve", "--quiet"}, args...)...)
	cmd.Dir = root
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("devstack serve did not exit cleanly on SIGINT: %v\n%s", err, stderr.String())
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("devstack serve did not stop within 15 s of SIGINT")
		}
	})
	var line string
	select {
	case line = <-lines:
	case <-time.After(60 * time.Second):
		t.Fatalf("devstack serve printed nothing in 60 s\n%s", stderr.String())
	}
	var info serveInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil || info.MNSEndpoint == "" {
		t.Fatalf("devstack serve %v: %v in %q\n%s", args, err, line, stderr.String())
	}
	return info
}

// askAndReadAccepted sends a backup request to the work queue with the
// official MNS SDK and the printed endpoint and key, and reads the
// notification queue until the accepted outcome arrives; it returns the
// outcome's data.terminal.
func askAndReadAccepted(t *testing.T, info serveInfo, id string) bool {
	t.Helper()
	client := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: info.MNSEndpoint, AccessKeyId: info.AccessKeyID, AccessKeySecret: info.AccessKeySecret, TimeoutSecond: 10,
	})
	if _, err := ali_mns.NewMNSQueue(localcloud.WorkQueue, client).SendMessage(
		ali_mns.MessageSendRequest{MessageBody: `{"DBInstanceId":"` + id + `"}`}); err != nil {
		t.Fatal(err)
	}
	notify := ali_mns.NewMNSQueue(localcloud.NotifyQueue, client)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp := make(chan ali_mns.MessageReceiveResponse, 1)
		errs := make(chan error, 2)
		notify.ReceiveMessage(resp, errs, 2)
		var m ali_mns.MessageReceiveResponse
		select {
		case m = <-resp:
		case err := <-errs:
			if ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
				continue
			}
			t.Fatal(err)
		}
		var ev struct {
			Type    string `json:"type"`
			Subject string `json:"subject"`
			Data    struct {
				Terminal *bool `json:"terminal"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(m.MessageBody), &ev); err != nil {
			t.Fatalf("outcome %q: %v", m.MessageBody, err)
		}
		if ev.Type == "rds.backup.accepted" && ev.Subject == id {
			if ev.Data.Terminal == nil {
				t.Fatalf("accepted outcome without data.terminal: %s", m.MessageBody)
			}
			return *ev.Data.Terminal
		}
	}
	t.Fatalf("no accepted outcome for %s within 60 s", id)
	return false
}

func functionsState(t *testing.T, info serveInfo) map[string]localcloud.FunctionState {
	t.Helper()
	res, err := http.Get(info.AdminURL + "/state")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st struct {
		Functions map[string]localcloud.FunctionState `json:"functions"`
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Functions
}

// TestDevstackServeConfiguresTheFunctions: --env and --env-file reach the
// functions' processes (BACKUP_TRACK_JOBS=false makes accepted the terminal
// outcome, where by default the job is tracked further), and
// --fc-instances sets how many instances each function may run.
func TestDevstackServeConfiguresTheFunctions(t *testing.T) {
	t.Parallel()
	envFile := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(envFile, []byte("# local settings\nBACKUP_TRACK_JOBS=false\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		args      []string
		terminal  bool
		instances int
	}{
		{"default", nil, false, 0}, // 0: the defaults, 1 and QueueInstances for the queue
		{"--env", []string{"--env", "BACKUP_TRACK_JOBS=false", "--fc-instances", "2"}, true, 2},
		{"--env-file", []string{"--env-file", envFile}, true, 0},
		{"--env wins over --env-file", []string{"--env-file", envFile, "--env", "BACKUP_TRACK_JOBS=true"}, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			info := serve(t, tc.args...)
			if got := askAndReadAccepted(t, info, "rm-demo-pg1"); got != tc.terminal {
				t.Errorf("accepted terminal = %v, want %v", got, tc.terminal)
			}
			fns := functionsState(t, info)
			for _, name := range localcloud.FunctionNames {
				want := tc.instances
				switch {
				case want == 0 && name == "queue":
					want = localcloud.QueueInstances // its trigger pushes asynchronously
				case want == 0:
					want = 1
				}
				if fns[name].Instances != want {
					t.Errorf("%s: %+v, want %d instances", name, fns[name], want)
				}
			}
		})
	}
}
