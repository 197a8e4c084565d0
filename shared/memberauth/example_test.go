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

func ExampleLoadMemberConfig() {
	env := map[string]string{
		"BACKUP_ALLOWED_ACCOUNTS":   "3000000000000003,2000000000000002",
		"BACKUP_MEMBER_EXTERNAL_ID": "ext-123",
	}
	c, err := memberauth.LoadMemberConfig(func(k string) string { return env[k] })
	fmt.Println(c, err)
	_, err = memberauth.LoadMemberConfig(func(k string) string { return map[string]string{"BACKUP_ALLOWED_ACCOUNTS": "42"}[k] })
	fmt.Println(err)
	// Output:
	// accounts=[2000000000000002 3000000000000003] regions=[] role=fc-rds-backup-member externalId=set <nil>
	// memberauth: BACKUP_ALLOWED_ACCOUNTS: "42": must be an Alibaba Cloud account id: 16 digits
}
