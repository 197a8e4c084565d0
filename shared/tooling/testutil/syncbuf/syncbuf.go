// Package syncbuf is a bytes.Buffer that several goroutines (a logger, a
// process's output copier, a test reading it) may use at once. Only tests
// import it.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer guarded by a mutex; the zero value is ready.
type Buffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	waiters []waiter
}

type waiter struct {
	s    string
	done chan struct{}
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	b.wakeLocked()
	return n, err
}

// WaitFor returns a channel that is closed once what was written contains
// s (at once when it does already): a test waits for a line instead of
// polling the buffer.
func (b *Buffer) WaitFor(s string) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := waiter{s: s, done: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.wakeLocked()
	return w.done
}

func (b *Buffer) wakeLocked() {
	if len(b.waiters) == 0 {
		return
	}
	kept := b.waiters[:0]
	for _, w := range b.waiters {
		if bytes.Contains(b.buf.Bytes(), []byte(w.s)) {
			close(w.done)
			continue
		}
		kept = append(kept, w)
	}
	b.waiters = kept
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
