// Command hello is the start-up floor of `make bench`: a go1 function that
// does nothing but fc.Start, built the way the product's functions are.
package main

import (
	"context"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
)

func main() {
	fc.Start(func(context.Context) (string, error) { return "hello", nil })
}
