package cluster

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

// hcLogger adapts a *slog.Logger to the hclog.Logger raft wants, so the
// node has one logging setup. raft's Debug maps to slog's Debug and its
// Trace below it.
type hcLogger struct {
	base  *slog.Logger // without the name
	l     *slog.Logger // base with logger=name
	name  string
	args  []any
	level *atomic.Int32 // hclog.Level; shared by derived loggers
}

const slogTrace = slog.LevelDebug - 4

func newHCLogger(l *slog.Logger, name string) hclog.Logger {
	lv := &atomic.Int32{}
	lv.Store(int32(hclog.NoLevel))
	return &hcLogger{base: l, l: l.With("logger", name), name: name, level: lv}
}

func toSlogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slogTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (h *hcLogger) enabled(l hclog.Level) bool {
	if min := hclog.Level(h.level.Load()); min != hclog.NoLevel && l < min {
		return false
	}
	return h.l.Enabled(context.Background(), toSlogLevel(l))
}

func (h *hcLogger) Log(level hclog.Level, msg string, args ...interface{}) {
	if level == hclog.Off || !h.enabled(level) {
		return
	}
	h.l.Log(context.Background(), toSlogLevel(level), msg, append(h.args[:len(h.args):len(h.args)], args...)...)
}

func (h *hcLogger) Trace(msg string, args ...interface{}) { h.Log(hclog.Trace, msg, args...) }
func (h *hcLogger) Debug(msg string, args ...interface{}) { h.Log(hclog.Debug, msg, args...) }
func (h *hcLogger) Info(msg string, args ...interface{})  { h.Log(hclog.Info, msg, args...) }
func (h *hcLogger) Warn(msg string, args ...interface{})  { h.Log(hclog.Warn, msg, args...) }
func (h *hcLogger) Error(msg string, args ...interface{}) { h.Log(hclog.Error, msg, args...) }

func (h *hcLogger) IsTrace() bool { return h.enabled(hclog.Trace) }
func (h *hcLogger) IsDebug() bool { return h.enabled(hclog.Debug) }
func (h *hcLogger) IsInfo() bool  { return h.enabled(hclog.Info) }
func (h *hcLogger) IsWarn() bool  { return h.enabled(hclog.Warn) }
func (h *hcLogger) IsError() bool { return h.enabled(hclog.Error) }

func (h *hcLogger) ImpliedArgs() []interface{} { return h.args }

func (h *hcLogger) With(args ...interface{}) hclog.Logger {
	c := *h
	c.args = append(h.args[:len(h.args):len(h.args)], args...)
	return &c
}

func (h *hcLogger) Name() string { return h.name }

func (h *hcLogger) Named(name string) hclog.Logger {
	n := name
	if h.name != "" {
		n = h.name + "." + name
	}
	return h.ResetNamed(n)
}

func (h *hcLogger) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	c.l = h.base.With("logger", name)
	return &c
}

func (h *hcLogger) SetLevel(level hclog.Level) { h.level.Store(int32(level)) }
func (h *hcLogger) GetLevel() hclog.Level      { return hclog.Level(h.level.Load()) }

func (h *hcLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *hcLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	level := hclog.Info
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = opts.ForceLevel
	}
	return &hcWriter{h: h, level: level}
}

// hcWriter turns lines written by a standard logger into log records.
type hcWriter struct {
	h     *hcLogger
	level hclog.Level
}

func (w *hcWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(bytes.TrimRight(p, "\n")))
	if msg != "" {
		w.h.Log(w.level, msg)
	}
	return len(p), nil
}
