package emukit

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"time"
)

// Serve serves h on ln in a goroutine until the returned server is shut
// down. The server waits at most 30 s for a request's headers and logs
// nothing (a client hanging up is no news to an emulator).
func Serve(ln net.Listener, h http.Handler) *http.Server {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = hs.Serve(ln) }()
	return hs
}

// Shutdown stops hs, giving requests in flight up to grace, then closes the
// connections left (a graceful Shutdown alone would wait for idle
// keep-alive connections).
func Shutdown(hs *http.Server, grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		_ = hs.Close()
	}
}

// Drop closes the request's connection without an answer (a handler must
// write nothing before). Where the connection cannot be hijacked it aborts
// the handler with http.ErrAbortHandler, which has the same effect.
func Drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
