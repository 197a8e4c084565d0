package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/fctest"
)

// serve starts the local cloud with all three functions wired to their
// triggers and prints one JSON line describing it; runs until interrupted.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fleetPath := fs.String("fleet", "", "fleet file (default testdata/fleet/demo.json)")
	quiet := fs.Bool("quiet", false, "discard the functions' logs (default: to stderr)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if *fleetPath == "" {
		*fleetPath = filepath.Join(root, "testdata/fleet/demo.json")
	}
	fleet, err := loadFleet(*fleetPath)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := startStack(ctx, fleet, cloudOptions{}, logSink(*quiet))
	if err != nil {
		return err
	}
	defer st.Close()

	line := map[string]any{
		"rdsEndpoint":     st.Cloud.RDS.Endpoint(),
		"rdsProtocol":     "http",
		"mnsEndpoint":     st.Cloud.MNS.Endpoint(),
		"webhookURL":      st.WebhookURL,
		"accessKeyId":     st.Cloud.User.AccessKeyID,
		"accessKeySecret": st.Cloud.User.AccessKeySecret,
		"region":          fleet.Region,
		"queues":          map[string]string{"notify": notifyQueue, "work": workQueue, "deadLetter": deadLetter},
		"adminURL":        st.AdminURL,
		"signedCaller":    demoCaller,
		"signedSecret":    demoSignedSecret,
		"githubSecret":    demoGitHubSecret,
		"gitlabToken":     demoGitLabToken,
	}
	if err := json.NewEncoder(os.Stdout).Encode(line); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func logSink(quiet bool) io.Writer {
	if quiet {
		return io.Discard
	}
	return os.Stderr
}

// Stack is the local cloud with the three functions behind their triggers.
type Stack struct {
	Cloud      *Cloud
	Scheduled  *fctest.Function
	Queue      *fctest.Function
	Webhook    *fctest.Function
	Trigger    *fctest.MNSTrigger
	WebhookURL string
	AdminURL   string
	servers    []*http.Server
	cancel     context.CancelFunc
	done       chan struct{}
}

func startStack(parent context.Context, fleet Fleet, opt cloudOptions, logs io.Writer) (*Stack, error) {
	cloud, err := startCloud(fleet, opt)
	if err != nil {
		return nil, err
	}
	st := &Stack{Cloud: cloud, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(parent)
	st.cancel = cancel
	fail := func(err error) (*Stack, error) { st.Close(); return nil, err }
	if err := cloud.buildAll(); err != nil {
		return fail(err)
	}
	if st.Scheduled, err = cloud.startFunction(ctx, "scheduled", nil, logs, 120*time.Second); err != nil {
		return fail(err)
	}
	if st.Queue, err = cloud.startFunction(ctx, "queue", nil, logs, 120*time.Second); err != nil {
		return fail(err)
	}
	if st.Webhook, err = cloud.startFunction(ctx, "webhook", webhookEnv(), logs, 30*time.Second); err != nil {
		return fail(err)
	}
	st.Trigger = cloud.mnsTrigger()
	st.Trigger.Logf = func(format string, args ...any) { fmt.Fprintf(logs, "mns-trigger: "+format+"\n", args...) }
	go func() {
		defer close(st.done)
		if err := st.Trigger.Run(ctx, st.Queue); err != nil && ctx.Err() == nil {
			fmt.Fprintln(logs, "devstack: queue trigger stopped:", err)
		}
	}()
	if st.WebhookURL, err = st.listen(&fctest.HTTPTrigger{Function: st.Webhook}); err != nil {
		return fail(err)
	}
	if st.AdminURL, err = st.listen(st.adminHandler()); err != nil {
		return fail(err)
	}
	return st, nil
}

func (st *Stack) listen(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	st.servers = append(st.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// adminHandler: GET /state (instances, jobs, queues, call counts as JSON);
// POST /timer fires the scheduled function with the request body as the
// timer trigger's payload.
func (st *Stack) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"rds":      st.Cloud.RDS.State(),
			"mns":      st.Cloud.MNS.State(),
			"rdsCalls": st.Cloud.RDS.Counts(),
			"mnsCalls": st.Cloud.MNS.Counts(),
			"backups":  st.Cloud.RDS.CreatedBackups(),
		})
	})
	mux.HandleFunc("POST /timer", func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(io.LimitReader(r.Body, 128<<10))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		trig := fctest.TimerTrigger{Name: "local-timer", Payload: string(payload), MaxAsyncRetryAttempts: 2, RetryDelay: time.Second}
		results, err := trig.Fire(r.Context(), st.Scheduled, time.Now().UTC())
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, results)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Close stops the functions, the triggers and the emulators.
func (st *Stack) Close() {
	if st.cancel != nil {
		st.cancel()
	}
	for _, s := range st.servers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.Shutdown(ctx)
		cancel()
	}
	if st.Trigger != nil && st.Queue != nil {
		select {
		case <-st.done:
		case <-time.After(5 * time.Second):
		}
	}
	for _, f := range []*fctest.Function{st.Scheduled, st.Queue, st.Webhook} {
		if f != nil {
			if err := f.Close(); err != nil && !errors.Is(err, fctest.ErrClosed) {
				fmt.Fprintln(os.Stderr, "devstack:", err)
			}
		}
	}
	st.Cloud.Close()
}
