package localcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
)

// Stack is the local cloud with the three functions behind their triggers.
type Stack struct {
	Cloud      *Cloud
	Scheduled  *fc.Function
	Queue      *fc.Function
	Webhook    *fc.Function
	Trigger    *fc.MNSTrigger
	WebhookURL string
	AdminURL   string
	servers    []*http.Server
	cancel     context.CancelFunc
	done       chan struct{}
}

// StartStack starts the local cloud with the three functions behind their
// triggers: the scheduled function (fire it with FireTimer or POST
// <AdminURL>/timer), the queue function fed by the work queue's EventBridge
// trigger (asynchronous as deployed, up to QueueInstances instances;
// synchronous with Options.SyncPush), and the webhook function behind a real
// HTTP server.
func StartStack(parent context.Context, fleet Fleet, opt Options, logs io.Writer) (*Stack, error) {
	cloud, err := StartCloud(fleet, opt)
	if err != nil {
		return nil, err
	}
	st := &Stack{Cloud: cloud, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(parent)
	st.cancel = cancel
	fail := func(err error) (*Stack, error) { st.Close(); return nil, err }
	if err := cloud.BuildAll(); err != nil {
		return fail(err)
	}
	start := func(name string, env []string, timeout time.Duration) (*fc.Function, error) {
		env = append(append(env, opt.Env...), opt.FunctionEnv[name]...)
		if d, ok := opt.Timeouts[name]; ok && d > 0 {
			timeout = d
		}
		instances := cloud.instances
		if name == "queue" && opt.FCInstances <= 0 && !opt.SyncPush {
			instances = QueueInstances // FC scales out under asynchronous pushes
		}
		return cloud.startFunction(ctx, name, env, logs, timeout, instances)
	}
	if st.Scheduled, err = start("scheduled", nil, 120*time.Second); err != nil {
		return fail(err)
	}
	if st.Queue, err = start("queue", nil, 120*time.Second); err != nil {
		return fail(err)
	}
	if st.Webhook, err = start("webhook", WebhookEnv(), 30*time.Second); err != nil {
		return fail(err)
	}
	st.Trigger = cloud.MNSTrigger()
	st.Trigger.Logf = func(format string, args ...any) { fmt.Fprintf(logs, "mns-trigger: "+format+"\n", args...) }
	st.Trigger.Async = !opt.SyncPush
	if opt.TriggerRetryDelay > 0 {
		st.Trigger.RetryDelay = opt.TriggerRetryDelay
		st.Trigger.AsyncRetryDelay = opt.TriggerRetryDelay
	}
	go func() {
		defer close(st.done)
		if err := st.Trigger.Run(ctx, st.Queue); err != nil && ctx.Err() == nil {
			fmt.Fprintln(logs, "devstack: queue trigger stopped:", err)
		}
	}()
	if st.WebhookURL, err = st.listen(&fc.HTTPTrigger{Function: st.Webhook}); err != nil {
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

// maxAdminBody bounds what the admin API reads of a request body.
const maxAdminBody = 1 << 20

// adminHandler: GET /state (instances, jobs, queues, tables with row
// counts, roles and assumed sessions, call counts, pending faults as JSON);
// GET, POST and DELETE /faults (list, add, clear faults);
// POST /timer fires the scheduled function with the request body as the
// timer trigger's payload.
func (st *Stack) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"rds":        st.Cloud.RDS.State(),
			"mns":        st.Cloud.MNS.State(),
			"rdsCalls":   st.Cloud.RDS.Counts(),
			"mnsCalls":   st.Cloud.MNS.Counts(),
			"tablestore": st.Cloud.OTS.State(),
			"sts":        st.Cloud.STS.State(),
			"otsCalls":   st.Cloud.OTS.Counts(),
			"stsCalls":   st.Cloud.STS.Counts(),
			"backups":    st.Cloud.RDS.CreatedBackups(),
			"faults":     st.Cloud.Faults(),
			"functions":  st.functions(),
		})
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, st.Cloud.Faults())
	})
	// POST /faults adds the faults of a body shaped like the fleet file's
	// (faults, mnsFaults, otsFaults, stsFaults, crashes); a mistake is a 400 naming the field, and then
	// nothing is added.
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		fs, err := DecodeFaultSet(http.MaxBytesReader(w, r.Body, maxAdminBody))
		if err == nil {
			err = st.Cloud.AddFaults(fs)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, st.Cloud.Faults())
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		st.Cloud.ClearFaults()
		writeJSON(w, http.StatusOK, st.Cloud.Faults())
	})
	mux.HandleFunc("POST /timer", func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(io.LimitReader(r.Body, 128<<10))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		results, err := st.FireTimer(r.Context(), string(payload))
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		// One entry per attempt (FC retries a failed timer invocation).
		type attempt struct {
			RequestID  string          `json:"requestId"`
			RetryCount int             `json:"retryCount"`
			DurationMs int64           `json:"durationMs"`
			Response   json.RawMessage `json:"response,omitempty"`
			Error      *fc.InvokeError `json:"error,omitempty"`
			TimedOut   bool            `json:"timedOut,omitempty"`
		}
		out := make([]attempt, len(results))
		for i, res := range results {
			out[i] = attempt{RequestID: res.RequestID, RetryCount: i, DurationMs: res.Duration.Milliseconds(),
				Response: res.Response, Error: res.Error, TimedOut: res.TimedOut}
		}
		writeJSON(w, http.StatusOK, out)
	})
	return mux
}

// FunctionState is a function in GET /state.
type FunctionState struct {
	Instances   int `json:"instances"`   // most instances at once (--fc-instances)
	Running     int `json:"running"`     // instances whose process runs now
	Started     int `json:"started"`     // instances ever started (a killed or timed-out one is replaced)
	Invocations int `json:"invocations"` // invocations so far, failed ones included
}

func (st *Stack) functions() map[string]FunctionState {
	out := map[string]FunctionState{}
	for name, f := range map[string]*fc.Function{"scheduled": st.Scheduled, "queue": st.Queue, "webhook": st.Webhook} {
		if f == nil {
			continue
		}
		out[name] = FunctionState{Instances: f.Config().Instances, Running: f.Running(), Started: f.Started(), Invocations: len(f.Invocations())}
	}
	return out
}

// FireTimer fires the scheduled function's timer trigger "local-timer" now
// with payload as the trigger's payload (a backup plan), and returns every
// attempt's result: FC retries a failed asynchronous invocation twice here,
// one second apart.
func (st *Stack) FireTimer(ctx context.Context, payload string) ([]fc.Result, error) {
	trig := fc.TimerTrigger{Name: "local-timer", Payload: payload, MaxAsyncRetryAttempts: 2, RetryDelay: time.Second}
	return trig.Fire(ctx, st.Scheduled, time.Now().UTC())
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
	for _, f := range []*fc.Function{st.Scheduled, st.Queue, st.Webhook} {
		if f != nil {
			if err := f.Close(); err != nil && !errors.Is(err, fc.ErrClosed) {
				fmt.Fprintln(os.Stderr, "devstack:", err)
			}
		}
	}
	st.Cloud.Close()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// SendMessage sends a message to the work queue with the official MNS SDK,
// as any producer would.
func (st *Stack) SendMessage(body string) error {
	c := st.Cloud
	client := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: c.MNS.Endpoint(), AccessKeyId: c.User.AccessKeyID, AccessKeySecret: c.User.AccessKeySecret, TimeoutSecond: 10,
	})
	q := ali_mns.NewMNSQueue(WorkQueue, client)
	_, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: body, Priority: 8})
	return err
}
