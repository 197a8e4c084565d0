package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
)

// serveCommand starts the local cloud with all three functions wired to
// their triggers and prints one JSON line describing it; runs until
// interrupted.
func serveCommand(fs *flag.FlagSet) func() error {
	loadFleet := fleetFlag(fs)
	loadEnv := envFlags(fs, "every function (after the local cloud's own; for webhook also over the local routes and secrets)")
	instances := fs.Int("fc-instances", 0, "`N` instances of each function that may run at once, each serving one invocation (default 1, and 4 for queue, whose trigger invokes asynchronously)")
	quiet := fs.Bool("quiet", false, "discard the functions' logs (default: to stderr)")
	return func() error {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "fc-instances" })
		return serve(loadFleet, loadEnv, *instances, *quiet, set)
	}
}

// serve runs the local cloud; instances is --fc-instances, 0 when it was
// not given (set).
func serve(loadFleet func() (localcloud.Fleet, string, error), loadEnv func() ([]string, error), instances int, quiet, set bool) error {
	if set && instances < 1 {
		return usagef("--fc-instances must be 1 or more, got %d", instances)
	}
	env, err := loadEnv()
	if err != nil {
		return err
	}
	fleet, _, err := loadFleet()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := localcloud.StartStack(ctx, fleet, localcloud.Options{Env: env, FCInstances: instances}, logSink(quiet))
	if err != nil {
		return err
	}
	defer st.Close()

	line := serveLine(st, fleet.Region)
	if err := json.NewEncoder(os.Stdout).Encode(line); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// serveLine is the JSON line serve prints (DESIGN.md §7): endpoints, the
// user's key, queues, the admin URL and the demo routes' secrets; the
// functions' own account, the member accounts they may reach and the
// fleet's roles (ARNs; the ExternalId stays in the fleet file), and the
// regions besides region they may name.
func serveLine(st *localcloud.Stack, region string) map[string]any {
	roles := []string{}
	for _, r := range st.Cloud.Fleet.Roles {
		roles = append(roles, r.Arn())
	}
	return map[string]any{
		"accountId":          localcloud.AccountID,
		"memberAccounts":     append([]string{}, st.Cloud.Fleet.Members()...),
		"roles":              roles,
		"allowedRegions":     append([]string{}, st.Cloud.Fleet.Regions()...),
		"rdsEndpoint":        st.Cloud.RDS.Endpoint(),
		"rdsProtocol":        "http",
		"mnsEndpoint":        st.Cloud.MNS.Endpoint(),
		"tablestoreEndpoint": st.Cloud.OTS.Endpoint(),
		"tablestoreInstance": st.Cloud.OTS.Instance(),
		"stsEndpoint":        st.Cloud.STS.Endpoint(),
		"stsProtocol":        "http",
		"webhookURL":         st.WebhookURL,
		"accessKeyId":        st.Cloud.User.AccessKeyID,
		"accessKeySecret":    st.Cloud.User.AccessKeySecret,
		"region":             region,
		"queues":             map[string]string{"notify": localcloud.NotifyQueue, "work": localcloud.WorkQueue, "deadLetter": localcloud.DeadLetter},
		"adminURL":           st.AdminURL,
		"signedCaller":       localcloud.SignedCaller,
		"signedSecret":       localcloud.SignedSecret,
		"githubSecret":       localcloud.GitHubSecret,
		"gitlabToken":        localcloud.GitLabToken,
		"jiraSecret":         localcloud.JiraSecret,
		"snowToken":          localcloud.SnowToken,
	}
}

func logSink(quiet bool) io.Writer {
	if quiet {
		return io.Discard
	}
	return os.Stderr
}
