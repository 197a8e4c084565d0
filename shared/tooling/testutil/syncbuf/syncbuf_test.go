package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

func TestConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("x"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("x", 800) {
		t.Fatalf("%d bytes, want 800", len(got))
	}
}

func TestWaitFor(t *testing.T) {
	var b Buffer
	_, _ = b.Write([]byte("hello "))
	select {
	case <-b.WaitFor("hello"):
	default:
		t.Fatal("WaitFor on written text is not closed at once")
	}
	later := b.WaitFor("world")
	select {
	case <-later:
		t.Fatal("closed before the text was written")
	default:
	}
	go func() { _, _ = b.Write([]byte("wor")); _, _ = b.Write([]byte("ld")) }()
	<-later // across two writes
}
