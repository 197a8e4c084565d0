package mnsq_test

import (
	"fmt"

	"github.com/fc-rds-backup/fc-rds-backup/shared/mnsq"
)

func ExampleNew() {
	// The SDK would panic on this endpoint (four dot-separated pieces).
	_, err := mnsq.New(mnsq.Config{Endpoint: "http://127.0.0.1:9000", AccessKeyID: "ak", AccessKeySecret: "sk"})
	fmt.Println(err)
	// Output:
	// mnsq: endpoint "http://127.0.0.1:9000": splits on "." into 4 pieces, the SDK needs exactly 5; want https://<accountId>.mns.<region>.aliyuncs.com (or http://127.0.0.1:PORT/. for a local emulator)
}
