package rdsclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

// TestDescribeInstanceEmptyAnswerIsNotFound: against the RDS emulator's
// opt-in fault, DescribeDBInstanceAttribute of a missing instance answers
// 200 with an empty Items.DBInstanceAttribute (terraform-provider-alicloud:
// "The API return 200 for resource not found"; cloud-fidelity.md A2). The
// product reports it exactly like the 404 answer: an *APIError with code
// InvalidDBInstanceId.NotFound, and never as facts of an empty instance.
// Another account's instance is not found either.
func TestDescribeInstanceEmptyAnswerIsNotFound(t *testing.T) {
	clock := rds.NewFakeClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	store := auth.NewStore(clock.Now)
	cred := store.NewAccessKey()
	srv := rds.NewServer(rds.WithClock(clock), rds.WithCredentials(store))
	t.Cleanup(srv.Close)
	srv.AddInstance(rds.Instance{DBInstanceId: "rm-here", Engine: "MySQL"})
	srv.AddInstance(rds.Instance{DBInstanceId: "rm-theirs", AccountId: "2000000000000002"})

	c, err := rdsclient.New(rdsclient.Config{RegionID: "cn-hangzhou", Endpoint: srv.Endpoint(), Protocol: "http",
		AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	notFound := func(id string) *rdsclient.APIError {
		t.Helper()
		f, _, err := c.DescribeInstance(ctx, "cn-hangzhou", id)
		var ae *rdsclient.APIError
		if !errors.As(err, &ae) || ae.Code != "InvalidDBInstanceId.NotFound" {
			t.Fatalf("DescribeInstance(%s) = %+v, %v; want InvalidDBInstanceId.NotFound", id, f, err)
		}
		return ae
	}

	// Without the fault: the emulator's 404.
	if ae := notFound("rm-gone"); ae.HTTPStatus != 404 {
		t.Errorf("404 answer: status %d", ae.HTTPStatus)
	}
	// With it: 200 and no item, for an unknown id and another account's.
	srv.InjectFault(rds.Fault{Action: "DescribeDBInstanceAttribute", Empty: true})
	for _, id := range []string{"rm-gone", "rm-theirs"} {
		ae := notFound(id)
		if ae.RequestID == "" {
			t.Errorf("%s: the empty answer's RequestId is lost", id)
		}
	}
	var empty int
	for _, call := range srv.Calls() {
		if call.Action == "DescribeDBInstanceAttribute" && call.Status == 200 {
			empty++
		}
	}
	if empty != 2 {
		t.Fatalf("%d calls answered 200, want the 2 empty answers (the fault did not fire)", empty)
	}
	// An existing instance is still described.
	f, _, err := c.DescribeInstance(ctx, "cn-hangzhou", "rm-here")
	if err != nil || f.Engine != "MySQL" || f.DBInstanceId != "rm-here" {
		t.Fatalf("DescribeInstance(rm-here) = %+v, %v", f, err)
	}
}
