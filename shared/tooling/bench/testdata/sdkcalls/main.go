// Command sdkcalls is the CPU floor of `make bench`: it makes, with the
// official SDKs and nothing else, the RDS and MNS calls the queue function
// made for a batch, so that their CPU can be compared with the function's.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rds "github.com/alibabacloud-go/rds-20140815/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

func main() {
	rdsEndpoint := flag.String("rds", "", "RDS endpoint host:port")
	mnsEndpoint := flag.String("mns", "", "MNS endpoint URL")
	queue := flag.String("queue", "", "MNS queue to send to")
	ak := flag.String("ak", "", "access key id")
	sk := flag.String("sk", "", "access key secret")
	ids := flag.String("ids", "", "DBInstanceIds, comma-separated")
	rdsCalls := flag.Int("rds-calls", 0, "RDS reads (DescribeBackupTasks) to make")
	sends := flag.Int("sends", 0, "MNS SendMessage calls to make")
	flag.Parse()
	if *rdsCalls == 0 && *sends == 0 {
		return
	}
	cl, err := rds.NewClient(&openapi.Config{AccessKeyId: ak, AccessKeySecret: sk, RegionId: tea.String("cn-hangzhou"),
		Endpoint: rdsEndpoint, Protocol: tea.String("http")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	list := strings.Split(*ids, ",")
	for i := range *rdsCalls {
		id := list[i%len(list)]
		if _, err := cl.DescribeBackupTasks(&rds.DescribeBackupTasksRequest{DBInstanceId: &id}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	q := ali_mns.NewMNSQueue(*queue, ali_mns.NewAliMNSClient(*mnsEndpoint, *ak, *sk))
	for i := range *sends {
		if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: fmt.Sprintf(`{"n":%d}`, i)}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
