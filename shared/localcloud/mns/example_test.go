package mns_test

import (
	"fmt"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
)

func ExampleServer() {
	srv := mns.NewServer()
	defer srv.Close()
	if err := srv.CreateQueue("rds-backup-notify", mns.QueueAttributes{}); err != nil {
		panic(err)
	}

	// The code under test uses the real SDK, pointed at the emulator.
	cred := srv.Credential()
	client := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint:        srv.Endpoint(),
		AccessKeyId:     cred.AccessKeyID,
		AccessKeySecret: cred.AccessKeySecret,
		TimeoutSecond:   5,
	})
	queue := ali_mns.NewMNSQueue("rds-backup-notify", client)
	if _, err := queue.SendMessage(ali_mns.MessageSendRequest{MessageBody: `{"status":"ok"}`}); err != nil {
		panic(err)
	}

	// The test inspects what arrived.
	for _, m := range srv.Messages("rds-backup-notify") {
		fmt.Println(m.Body, m.State)
	}
	fmt.Println(srv.Counts()["SendMessage rds-backup-notify"])
	// Output:
	// {"status":"ok"} active
	// 1
}
