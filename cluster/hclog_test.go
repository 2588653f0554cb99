package cluster

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHCLogAdapter(t *testing.T) {
	var buf bytes.Buffer
	l := newHCLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), "raft")
	l.Debug("hidden")
	l.Info("entering follower state", "term", 3)
	l.Named("snapshots").With("id", "x").Warn("slow")
	l.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Error}).Print("from std")
	out := buf.String()
	for _, want := range []string{
		`level=INFO msg="entering follower state" logger=raft term=3`,
		`level=WARN msg=slow logger=raft.snapshots id=x`,
		`level=ERROR msg="from std" logger=raft`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden") || l.IsDebug() || !l.IsInfo() {
		t.Errorf("debug passed an info-level handler:\n%s", out)
	}
	l.SetLevel(hclog.Error)
	if l.IsWarn() {
		t.Error("SetLevel(Error) left warn enabled")
	}
}
