package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

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

func ExampleDo() {
	// A fake clock: sleeping only prints the wait.
	sleep := func(_ context.Context, d time.Duration) error { fmt.Println("sleep", d); return nil }
	quota := retry.NewQuota(0) // the owner's bucket, shared by its loops
	l := retry.Loop{
		MaxAttempts: 4,
		Policy:      retry.DefaultPolicy,
		Rand:        func() float64 { return 1 }, // the cap: deterministic
		Quota:       quota,
		Sleep:       sleep,
		OnRetry: func(r retry.Retry) {
			fmt.Printf("attempt %d failed (%s), retrying in %s\n", r.Attempt, r.Class, r.Delay)
		},
	}
	answers := []error{apiErr{"InternalError", 500}, apiErr{"IncorrectDBInstanceState", 403}, nil}
	res, err := retry.Do(context.Background(), l, func(_ context.Context, attempt int) error {
		return answers[attempt-1]
	})
	fmt.Println(res.Stop, res.Attempts, err, quota.Available())

	res, err = retry.Do(context.Background(), l, func(context.Context, int) error {
		return apiErr{"Forbidden.RAM", 403}
	})
	fmt.Println(res.Stop, res.Attempts, errors.Is(err, apiErr{"Forbidden.RAM", 403}))
	// Output:
	// attempt 1 failed (transient), retrying in 200ms
	// sleep 200ms
	// attempt 2 failed (state-wait), retrying in 5s
	// sleep 5s
	// succeeded 3 <nil> 495
	// terminal 1 true
}
