package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/pflag"
)

// logFlags are the logging flags of `bgdns serve`.
type logFlags struct {
	format string
}

// addLogFlags registers --log-format (BGDNS_LOG_FORMAT) on f.
func addLogFlags(f *pflag.FlagSet, o *logFlags) {
	f.StringVar(&o.format, "log-format", "text", "log line format: text (key=value) or json (one JSON object a line)")
}

// logger returns the process's logger writing to w at level, in the
// format chosen, and makes it slog's default so every package logs alike.
func (o *logFlags) logger(w io.Writer, level string) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: parseLevel(level)}
	var h slog.Handler
	switch strings.ToLower(strings.TrimSpace(o.format)) {
	case "", "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", o.format)
	}
	l := slog.New(h)
	slog.SetDefault(l)
	return l, nil
}
