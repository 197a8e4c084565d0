package retry_test

import (
	"fmt"

	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

func ExampleClassify() {
	fmt.Println(retry.Classify(apiErr{"InvokeProxyFailure", 500}))
	fmt.Println(retry.Classify(apiErr{"IncorrectDBInstanceState", 403}))
	fmt.Println(retry.Classify(apiErr{"Exceeded.BackupTimes", 403}))
	fmt.Println(retry.Classify(apiErr{"SomethingNew", 503}))
	// Output:
	// transient
	// state-wait
	// terminal
	// transient
}

func ExampleBackoff_Delay() {
	b := retry.TransientBackoff
	b.Rand = func() float64 { return 0.5 }
	for n := range 6 {
		fmt.Print(b.Delay(n), " ")
	}
	fmt.Println()
	// Output: 100ms 200ms 400ms 800ms 1.6s 2.5s
}
