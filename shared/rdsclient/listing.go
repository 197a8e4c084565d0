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

// A listing page is the one answer the product reads whole: up to 100
// instances of some 30 fields each. The SDK's typed DescribeDBInstances
// converts it three times (the body decoded into a map, the map to JSON and
// back, then to JSON and back into the typed response: tea.Convert), about
// 7 ms of CPU a page — on the path before a fleet's first backup, where a
// run reads its pages at once. describeDBInstances sends the same request
// through the same client (CallApi with the typed operation's parameters:
// signature, endpoint, timeouts, and errors, which DoRequest turns into
// the SDK's error before any body is read, are the SDK's) but takes the
// body as it came and decodes only the fields ListInstances reads.
//
// It is the only place the generic CallApi is used, and only with an
// action of this package's constants (the RAM-policy test maps it).

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
// request's fields, as openapiutil.Query would render them) and decodes
// its page.
func describeDBInstances(cl *rds.Client, query map[string]*string, rt *util.RuntimeOptions) (*instancePage, error) {
	res, err := cl.CallApi(describeDBInstancesParams(), &openapi.OpenApiRequest{Query: query}, rt)
	if err != nil {
		return nil, err
	}
	body, ok := res["body"].(io.ReadCloser)
	if !ok {
		return nil, fmt.Errorf("rdsclient: %s: the SDK returned no body", ActionDescribeDBInstances)
	}
	defer body.Close()
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	var p instancePage
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("rdsclient: %s: the answer is not the JSON of a page: %w", ActionDescribeDBInstances, err)
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
