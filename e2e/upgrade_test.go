//go:build upgrade

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// previousRelease is the commit of the release before this one: the
// rolling-upgrade test builds bgdns from it (BGDNS_UPGRADE_FROM names
// another commit or tag).
const previousRelease = "8e179ac02343dc4c31b536651b876a75af7dc1de"

// buildRelease builds bgdns from the commit rev of this repository (git
// archive into a temporary directory, then go build) and returns the
// binary's path.
func buildRelease(t *testing.T, rev string) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	archive := exec.Command("git", "-C", root, "archive", "--format=tar", rev)
	untar := exec.Command("tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	untar.Stdin = pipe
	var aerr strings.Builder
	archive.Stderr = &aerr
	if err := untar.Start(); err != nil {
		t.Fatal(err)
	}
	if err := archive.Run(); err != nil {
		t.Fatalf("git archive %s (the repository must hold that commit; a shallow clone does not): %v: %s", rev, err, aerr.String())
	}
	if err := untar.Wait(); err != nil {
		t.Fatalf("untar %s: %v", rev, err)
	}
	out := filepath.Join(t.TempDir(), "bgdns-"+rev[:min(12, len(rev))])
	build := exec.Command("go", "build", "-o", out, "./cmd/bgdns")
	build.Dir = src
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building bgdns %s: %v\n%s", rev, err, b)
	}
	return out
}

// A cluster of the previous release is upgraded one node at a time,
// followers first and the leader last, while clients write and a service
// goes through deploy, switch and rollback with the cluster half old and
// half new: no acknowledged write is lost, no node refuses an entry or
// finds its log diverged, and every node ends on the same colour.
func TestRollingUpgradeFromPreviousRelease(t *testing.T) {
	rev := previousRelease
	if v := os.Getenv("BGDNS_UPGRADE_FROM"); v != "" {
		rev = v
	}
	old := buildRelease(t, rev)
	c := StartCluster(t, 3, ClusterOptions{Hosts: clusterHosts, MaxStale: 2 * time.Second, Bin: old})
	svc := svcName
	put := map[string]any{"ttl": 5, "blue": map[string]any{"version": "1.0", "addresses": blueV4}}
	rest := func(method, path string, body any) {
		t.Helper()
		eventually(t, 20*time.Second, method+" "+path, func() error {
			r, err := CallE(method, c.Leader().URL()+path, body)
			if err != nil {
				return err
			}
			if r.Status != http.StatusOK {
				if r.Status == http.StatusServiceUnavailable || r.Status == http.StatusConflict && strings.Contains(string(r.Body), "leader") {
					return fmt.Errorf("%d: %s", r.Status, r.Body)
				}
				return permanent{fmt.Errorf("%d: %s", r.Status, r.Body)}
			}
			return nil
		})
	}
	rest("PUT", "/v1/services/"+svc, put)
	if rev == previousRelease {
		// That release had no version endpoint: proof the cluster runs it.
		if r, err := CallE("GET", c.Nodes[0].URL()+"/v1/version", nil); err != nil || r.Status != http.StatusNotFound {
			t.Fatalf("GET /v1/version on the previous release: %v %v, want 404", r.Status, err)
		}
	}

	w := startStopWriter(c, testZone)
	defer func() {
		select {
		case <-w.stop:
		default:
			w.finish()
		}
	}()
	// What each step of the upgrade does to the service while the
	// cluster runs both releases.
	steps := []func(){
		func() {
			rest("POST", "/v1/services/"+svc+"/deploy", map[string]any{"version": "2.0", "addresses": greenV4})
			rest("POST", "/v1/services/"+svc+"/switch", map[string]any{"reason": "2.0 during the upgrade"})
		},
		func() {
			rest("POST", "/v1/services/"+svc+"/rollback", map[string]any{"reason": "back during the upgrade"})
		},
		func() { rest("POST", "/v1/services/"+svc+"/switch", map[string]any{"reason": "2.0 after the upgrade"}) },
	}
	leader := c.Leader()
	order := append(c.Followers(), leader)
	for i, n := range order {
		before := w.count()
		eventually(t, 20*time.Second, "writes flowing", func() error {
			if w.count() < before+20 {
				return fmt.Errorf("%d writes acknowledged, want %d", w.count(), before+20)
			}
			return nil
		})
		n.Stop()
		n.Opts.Bin = "" // this build
		n.Restart()
		t.Logf("%s upgraded (%d writes acknowledged so far)", n.ID, w.count())
		steps[i]()
	}
	acked := w.finish()
	c.WaitReady()
	leader = c.Leader()
	for _, n := range c.Nodes {
		eventually(t, 15*time.Second, n.ID+" applied the leader's last write", func() error { return sameApplied(leader, n) })
		have := serviceNames(t, n)
		var missing []string
		for _, name := range acked {
			if !have[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s lacks %d of %d acknowledged writes, e.g. %s", n.ID, len(missing), len(acked), strings.Join(missing[:min(5, len(missing))], ", "))
		}
		if r, err := CallE("GET", n.URL()+"/v1/version", nil); err != nil || r.Status != http.StatusOK {
			t.Errorf("%s: GET /v1/version after the upgrade: %v %v", n.ID, r.Status, err)
		}
		eventually(t, 10*time.Second, n.ID+" answers green", func() error { return checkColour(n, greenV4) })
		log := n.Log()
		for _, bad := range []string{"newer encoding version", "diverged", "panic"} {
			if strings.Contains(log, bad) {
				t.Errorf("%s logged %q during the upgrade:\n%s", n.ID, bad, n.LogTail(40))
			}
		}
	}
	if len(acked) < 60 {
		t.Fatalf("only %d writes acknowledged during the upgrade", len(acked))
	}
	t.Logf("%d writes acknowledged across the upgrade from %s, all on every node", len(acked), rev[:12])
}
