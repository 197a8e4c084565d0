package rdsclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rds "github.com/alibabacloud-go/rds-20140815/v3/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
)

// Two answers are read by hand: a fleet's hot path is one listing of its
// pages and one CreateBackup per instance, and the SDK's typed operations
// spend more CPU on their answers than on the rest of the call. Each typed
// operation validates its request by reflection (tea.Validate), then turns
// the answer into a map, to JSON and back, then to JSON and back into the
// typed response (tea.Convert twice): about 7 ms of CPU for a 100-instance
// DescribeDBInstances page, on the path before a fleet's first backup, and
// about a quarter of each CreateBackup's. These two are sent through the
// same client's CallApi with the typed operation's own parameters, so the
// signature, endpoint, timeouts and error answers (which DoRequest turns
// into the SDK's error before any body is read) stay the SDK's; the body
// comes back as it came (BodyType "binary") and only the fields the
// product reads are decoded, as leniently as the SDK decodes them.
//
// CallApi is used nowhere else, and only as CallApi(xParams(), ...) with
// xParams naming a constant action: the RAM-policy test maps those calls
// to grants. That is why each action has a Params function of its own.

// describeDBInstancesParams are DescribeDBInstancesWithOptions' own
// (rds-20140815 v3.4.0), but for the body, which comes back unconverted.
func describeDBInstancesParams() *openapi.Params {
	return &openapi.Params{
		Action:      tea.String(ActionDescribeDBInstances),
		Version:     tea.String("2014-08-15"),
		Protocol:    tea.String("HTTPS"),
		Pathname:    tea.String("/"),
		Method:      tea.String("POST"),
		AuthType:    tea.String("AK"),
		Style:       tea.String("RPC"),
		ReqBodyType: tea.String("formData"),
		BodyType:    tea.String("binary"),
	}
}

// createBackupParams are CreateBackupWithOptions' own, but for the body.
func createBackupParams() *openapi.Params {
	return &openapi.Params{
		Action:      tea.String(ActionCreateBackup),
		Version:     tea.String("2014-08-15"),
		Protocol:    tea.String("HTTPS"),
		Pathname:    tea.String("/"),
		Method:      tea.String("POST"),
		AuthType:    tea.String("AK"),
		Style:       tea.String("RPC"),
		ReqBodyType: tea.String("formData"),
		BodyType:    tea.String("binary"),
	}
}

// readAnswer decodes the body of a CallApi result (BodyType "binary")
// into out.
func readAnswer(action string, res map[string]interface{}, out any) error {
	body, ok := res["body"].(io.ReadCloser)
	if !ok {
		return fmt.Errorf("rdsclient: %s: the SDK returned no body", action)
	}
	defer body.Close()
	raw, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("rdsclient: %s: the answer is not the JSON expected: %w", action, err)
	}
	return nil
}

// createdBackup is what CreateBackup reads of its answer.
type createdBackup struct {
	RequestId, BackupJobId lenientString
}

// createBackup sends req (ToCreateBackupRequest's) as CreateBackup.
func createBackup(cl *rds.Client, req *rds.CreateBackupRequest, rt *util.RuntimeOptions) (*createdBackup, error) {
	query := map[string]*string{}
	for k, v := range map[string]*string{"BackupMethod": req.BackupMethod, "BackupStrategy": req.BackupStrategy,
		"BackupType": req.BackupType, "DBInstanceId": req.DBInstanceId, "DBName": req.DBName} {
		if v != nil {
			query[k] = v
		}
	}
	res, err := cl.CallApi(createBackupParams(), &openapi.OpenApiRequest{Query: query}, rt)
	if err != nil {
		return nil, err
	}
	var out createdBackup
	if err := readAnswer(ActionCreateBackup, res, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// instancePage is what ListInstances reads of a DescribeDBInstances answer.
type instancePage struct {
	RequestId        lenientString
	TotalRecordCount lenientInt
	Items            struct {
		DBInstance []listedInstance
	}
}

type listedInstance struct {
	DBInstanceId, Engine, EngineVersion, DBInstanceStatus, LockMode,
	DBInstanceType, Category, DBInstanceStorageType lenientString
}

// describeDBInstances sends one DescribeDBInstances with query (the typed
// request's fields, as the SDK renders them) and decodes its page.
func describeDBInstances(cl *rds.Client, query map[string]*string, rt *util.RuntimeOptions) (*instancePage, error) {
	res, err := cl.CallApi(describeDBInstancesParams(), &openapi.OpenApiRequest{Query: query}, rt)
	if err != nil {
		return nil, err
	}
	var p instancePage
	if err := readAnswer(ActionDescribeDBInstances, res, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// lenientString takes a JSON string, number or boolean as its text, and
// null as "", as the SDK's own decoder does for a string field: the API
// has answered ids as numbers before.
type lenientString string

func (s *lenientString) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 1 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0:
		*s = lenientString(b[1 : len(b)-1]) // nothing escaped: the text as it is
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = lenientString(v)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		return fmt.Errorf("want a string, got %.20s", b)
	default: // a number or a boolean, as written
		*s = lenientString(b)
	}
	return nil
}

// lenientInt takes a JSON number, or a string holding one, as an int, and
// null as 0.
type lenientInt int

func (n *lenientInt) UnmarshalJSON(b []byte) error {
	var s lenientString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.Atoi(string(s))
	if err != nil {
		return fmt.Errorf("want a whole number, got %.20s", b)
	}
	*n = lenientInt(v)
	return nil
}
