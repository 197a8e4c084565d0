package app

import (
	"context"
	"io"
	"log/slog"
)

type ctxKey int

const (
	keyAttrs ctxKey = iota
	keyInvocation
)

// withLogAttrs returns ctx carrying attrs that every log line written with
// that ctx gets (request id, function).
func withLogAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(keyAttrs).([]slog.Attr)
	return context.WithValue(ctx, keyAttrs, append(append([]slog.Attr(nil), prev...), attrs...))
}

// ctxHandler adds the context's attributes to each record.
type ctxHandler struct{ slog.Handler }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if attrs, ok := ctx.Value(keyAttrs).([]slog.Attr); ok {
		r.AddAttrs(attrs...)
	}
	return h.Handler.Handle(ctx, r)
}

func (h ctxHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return ctxHandler{h.Handler.WithAttrs(attrs)}
}

func (h ctxHandler) WithGroup(name string) slog.Handler { return ctxHandler{h.Handler.WithGroup(name)} }

// NewLogger returns the functions' JSON logger: one object per line on w,
// with the context's request id on every line written with a context.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	return slog.New(ctxHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv, ReplaceAttr: readableDurations})})
}

// readableDurations writes durations as "1.5s", not integer nanoseconds.
func readableDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}
