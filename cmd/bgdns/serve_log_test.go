package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestLogFormat(t *testing.T) {
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })

	var buf bytes.Buffer
	l, err := (&logFlags{format: "json"}).logger(&buf, "info")
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hidden")
	slog.Info("change", "action", "switch", "index", 7)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("json format: %v: %q", err, buf.String())
	}
	if m["msg"] != "change" || m["action"] != "switch" || m["index"] != float64(7) || m["level"] != "INFO" {
		t.Fatalf("json line %v", m)
	}

	buf.Reset()
	if _, err := (&logFlags{format: "text"}).logger(&buf, "debug"); err != nil {
		t.Fatal(err)
	}
	slog.Debug("change", "action", "switch")
	if got := buf.String(); !strings.Contains(got, "level=DEBUG msg=change action=switch") {
		t.Fatalf("text line %q", got)
	}
	if _, err := (&logFlags{format: "xml"}).logger(&buf, "info"); err == nil {
		t.Fatal("--log-format xml accepted")
	}
}
