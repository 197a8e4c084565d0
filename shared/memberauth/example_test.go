package memberauth_test

import (
	"fmt"

	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
)

func ExampleSessionName() {
	fmt.Println(memberauth.SessionName("run-2026.03.02_1"))
	fmt.Println(memberauth.SessionName("plan:nightly/2026-03-02"))
	fmt.Println(memberauth.RoleArn("2000000000000002", memberauth.DefaultRole))
	// Output:
	// run-2026.03.02_1
	// plan_nightly_2026-03-02.0919b2dd
	// acs:ram::2000000000000002:role/fc-rds-backup-member
}
