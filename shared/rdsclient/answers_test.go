package rdsclient_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rdssdk "github.com/alibabacloud-go/rds-20140815/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// ListInstances decodes its pages by hand (listing.go); the SDK's typed
// DescribeDBInstances is the oracle: for the same pages of the local RDS,
// the same instances with the same facts, and the same total.
func TestListInstancesReadsWhatTheTypedOperationReads(t *testing.T) {
	srv := rds.NewServer()
	t.Cleanup(srv.Close)
	engines := []string{"MySQL", "PostgreSQL", "SQLServer", "MariaDB"}
	for i := range 130 {
		in := rds.Instance{DBInstanceId: fmt.Sprintf("rm-list-%03d", i), Engine: engines[i%4], Tags: map[string]string{"team": "core"}}
		switch i % 5 {
		case 1:
			in.DBInstanceStatus, in.LockMode = "Rebooting", "ManualLock"
		case 2:
			in.DBInstanceType, in.Category, in.DBInstanceStorageType = "Readonly", "Basic", "local_ssd"
		case 3:
			in.Tags = map[string]string{"team": "other"}
		}
		srv.AddInstance(in)
	}
	cred := srv.Credential()
	c, err := rdsclient.New(rdsclient.Config{RegionID: "cn-hangzhou", Endpoint: srv.Endpoint(), Protocol: "http",
		AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	sdk, err := rdssdk.NewClient(&openapi.Config{AccessKeyId: tea.String(cred.AccessKeyID), AccessKeySecret: tea.String(cred.AccessKeySecret),
		RegionId: tea.String("cn-hangzhou"), Endpoint: tea.String(strings.TrimPrefix(srv.Endpoint(), "http://")), Protocol: tea.String("http")})
	if err != nil {
		t.Fatal(err)
	}
	for _, sel := range []backup.Selector{{Tags: map[string]string{"team": "core"}}, {Engine: "PostgreSQL"}, {Tags: map[string]string{"team": "core"}, Engine: "MySQL"}} {
		for page := 1; page <= 2; page++ {
			got, total, reqID, err := c.ListInstances(context.Background(), sel, page, 100)
			if err != nil {
				t.Fatalf("%+v page %d: %v", sel, page, err)
			}
			req := &rdssdk.DescribeDBInstancesRequest{RegionId: tea.String("cn-hangzhou"), PageNumber: tea.Int32(int32(page)), PageSize: tea.Int32(100)}
			if sel.Engine != "" {
				req.Engine = tea.String(sel.Engine)
			}
			if len(sel.Tags) > 0 {
				req.Tags = tea.String(`{"team":"core"}`)
			}
			resp, err := sdk.DescribeDBInstances(req)
			if err != nil {
				t.Fatal(err)
			}
			var want []backup.InstanceFacts
			for _, in := range resp.Body.Items.DBInstance {
				want = append(want, backup.InstanceFacts{DBInstanceId: tea.StringValue(in.DBInstanceId), RegionId: "cn-hangzhou",
					Engine: tea.StringValue(in.Engine), EngineVersion: tea.StringValue(in.EngineVersion), Status: tea.StringValue(in.DBInstanceStatus),
					LockMode: tea.StringValue(in.LockMode), InstanceType: tea.StringValue(in.DBInstanceType), Category: tea.StringValue(in.Category),
					StorageType: tea.StringValue(in.DBInstanceStorageType)})
			}
			if total != int(tea.Int32Value(resp.Body.TotalRecordCount)) || reqID == "" || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%+v page %d:\nListInstances: %d %q %+v\ntyped SDK:     %d %+v", sel, page, total, reqID, got, tea.Int32Value(resp.Body.TotalRecordCount), want)
			}
			if page == 1 && len(got) == 0 {
				t.Errorf("%+v: nothing listed", sel)
			}
		}
	}
}

// The answer is decoded as leniently as the SDK decodes it (ids and counts
// as numbers or strings), a page that is not one is an error naming the
// action, and errors keep the SDK's codes.
func TestListInstancesAnswers(t *testing.T) {
	list := func(t *testing.T, status int, body string) ([]backup.InstanceFacts, int, string, error) {
		t.Helper()
		s := newStub(t)
		s.json(rdsclient.ActionDescribeDBInstances, status, body)
		return s.client(t).ListInstances(context.Background(), backup.Selector{RegionId: "cn-hangzhou", Engine: "MySQL"}, 1, 100)
	}
	items, total, reqID, err := list(t, 200, `{"RequestId":"L2","TotalRecordCount":"3","Items":{"DBInstance":[{"DBInstanceId":12345,"Engine":"My\u0053QL","LockMode":null},{"DBInstanceId":""},{}]}}`)
	if err != nil || total != 3 || reqID != "L2" || len(items) != 1 || items[0].DBInstanceId != "12345" || items[0].Engine != "MySQL" || items[0].LockMode != "" {
		t.Errorf("numbers for strings: %+v %d %q %v", items, total, reqID, err)
	}
	if items, total, _, err := list(t, 200, `{"RequestId":"L3","TotalRecordCount":0,"Items":{}}`); err != nil || total != 0 || len(items) != 0 {
		t.Errorf("an empty page: %+v %d %v", items, total, err)
	}
	for _, body := range []string{`{"Items":{"DBInstance":[{"DBInstanceId":{"id":1}}]}}`, `{"TotalRecordCount":"many"}`, `not json`} {
		// As any answer the SDK cannot read: transient, named by its action.
		if _, _, _, err := list(t, 200, body); err == nil || !strings.Contains(err.Error(), rdsclient.ActionDescribeDBInstances) || retry.Classify(err) != retry.Transient {
			t.Errorf("answer %s: %v (class %v), want a transient error naming %s", body, err, retry.Classify(err), rdsclient.ActionDescribeDBInstances)
		}
	}
	_, _, _, err = list(t, 400, `{"RequestId":"L4","Code":"Throttling.User","Message":"Request was denied due to user flow control."}`)
	if retry.Classify(err) != retry.Transient || !retry.IsThrottle(err) || !strings.Contains(err.Error(), "Throttling.User") {
		t.Errorf("a throttling answer: %v (class %v), want transient, a throttling answer, with its code", err, retry.Classify(err))
	}
}

// CreateBackup's answer is read by hand too: the job id as a string or a
// number, the API's error answers with their codes as the SDK reports
// them, and an answer that is not JSON a transient error naming the action.
func TestCreateBackupAnswers(t *testing.T) {
	create := func(t *testing.T, status int, body string) (string, string, error) {
		t.Helper()
		s := newStub(t)
		s.json(rdsclient.ActionCreateBackup, status, body)
		return s.client(t).CreateBackup(context.Background(), backup.Request{DBInstanceId: "rm-1", BackupMethod: "Physical"})
	}
	if job, req, err := create(t, 200, `{"RequestId":"C1","BackupJobId":"5073731"}`); err != nil || job != "5073731" || req != "C1" {
		t.Errorf("a string job id: %q %q %v", job, req, err)
	}
	_, _, err := create(t, 403, `{"RequestId":"C2","Code":"IncorrectDBInstanceState","Message":"Current DB instance state does not support this operation."}`)
	var api *rdsclient.APIError
	if !errors.As(err, &api) || api.Code != "IncorrectDBInstanceState" || api.RequestID != "C2" || api.HTTPStatus != 403 {
		t.Errorf("an error answer: %#v", err)
	}
	for _, body := range []string{`not json`, `{"BackupJobId":{"id":1}}`} {
		if _, _, err := create(t, 200, body); err == nil || !strings.Contains(err.Error(), rdsclient.ActionCreateBackup) || retry.Classify(err) != retry.Transient {
			t.Errorf("answer %s: %v (class %v), want a transient error naming %s", body, err, retry.Classify(err), rdsclient.ActionCreateBackup)
		}
	}
}
